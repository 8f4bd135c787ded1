"""Snapshot files: an ordinary 8-bit RGB image plus a little JSON saying how to expand it.

A PNG keeps the JSON in an ``iTXt`` chunk named :data:`KEY`; a JPEG (for the JPEG-robust
model) in its comment segment. Viewers ignore both, so a snapshot is a normal picture.
The JSON records the frame count, the model (weights name and tensor digest), the frame
rate of the embedded frames, the source size and, for a preview sheet, the tile grid —
so ``expand`` needs no options, and a picture that was resized, re-encoded to another
mode or stripped of its metadata is refused with a clear message instead of being
expanded into garbage.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from kinema.io.atomic import AtomicOutput, check_output
from kinema.io.pixels import from_hwc
from kinema.types import BadInputError, UnsupportedFormatError

#: What Pillow raises for a file that is not a readable picture.
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)

KEY = "kinema-snapshot"
VERSION = 1
SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot file says about itself.

    ``size`` is the picture's ``(width, height)`` as written (a sheet's whole size);
    ``tile`` the size of one snapshot in it; ``grid`` ``(columns, rows)`` and ``count``
    the tiles in use (1 × 1 and 1 for a single snapshot); ``starts`` the source frame
    index of each tile's first frame.
    """

    frames: int
    model: str
    digest: str
    fps: str  # a fraction "num/den": the rate of the embedded frames (source rate / stride)
    stride: int
    starts: tuple[int, ...]
    source: str
    source_size: tuple[int, int]
    size: tuple[int, int]
    tile: tuple[int, int]
    grid: tuple[int, int] = (1, 1)
    version: int = VERSION

    @property
    def rate(self) -> Fraction:
        return Fraction(self.fps)

    @property
    def count(self) -> int:
        return len(self.starts)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, name: Path) -> SnapshotInfo:
        try:
            data = json.loads(text)
            if int(data.get("version", 0)) > VERSION:
                raise BadInputError(f"{name}: snapshot format version {data['version']} is newer than this kinema understands")
            info = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
            Fraction(info.fps)
        except BadInputError:
            raise
        except (json.JSONDecodeError, TypeError, ValueError, KeyError) as exc:
            raise BadInputError(f"{name}: unreadable snapshot metadata ({exc})") from None
        return info


def _suffix_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormatError(f"{path}: a snapshot is written as .png (lossless) or .jpg")
    return fmt


def write_snapshot(path: Path, image: torch.Tensor, info: SnapshotInfo, *, quality: int = 90, overwrite: bool = False) -> Path:
    """Write ``image`` ``(3, H, W)`` in [0, 1] with ``info`` atomically (PNG or JPEG by suffix)."""
    path = Path(path)
    fmt = _suffix_format(path)
    check_output(path, overwrite=overwrite)
    array = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    picture = Image.fromarray(np.ascontiguousarray(array), mode="RGB")
    out = AtomicOutput(path, overwrite=overwrite)
    try:
        if fmt == "PNG":
            text = PngImagePlugin.PngInfo()
            text.add_itxt(KEY, info.to_json())
            picture.save(out.path, format="PNG", pnginfo=text, compress_level=6)
        else:
            comment = (KEY + ":" + info.to_json()).encode()
            picture.save(out.path, format="JPEG", quality=quality, subsampling="4:2:0", comment=comment)
        return out.commit()
    finally:
        out.discard()


class NoSnapshotMetadata(BadInputError):
    """A readable picture without kinema's metadata (re-saved by another program?)."""


def read_picture(path: Path) -> torch.Tensor:
    """Any 8-bit picture as ``(3, H, W)`` float in [0, 1] (a snapshot whose metadata is gone)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    try:
        with Image.open(path) as picture:
            array = np.asarray(picture.convert("RGB"))
    except _UNREADABLE as exc:
        raise BadInputError(f"{path}: not a readable image ({exc})") from None
    return from_hwc(array)[0]


def read_snapshot(path: Path) -> tuple[torch.Tensor, SnapshotInfo]:
    """``(image (3, H, W) float in [0, 1], info)``; raises :class:`BadInputError` for a file
    that is not a readable snapshot as written (no metadata, resized, not 8-bit RGB)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    try:
        with Image.open(path) as picture:
            picture.load()
            text = picture.info.get(KEY)
            comment = picture.info.get("comment", b"")
            if text is None and isinstance(comment, bytes) and comment.startswith(KEY.encode() + b":"):
                text = comment[len(KEY) + 1 :].decode("utf-8", "replace")
            mode, size = picture.mode, picture.size
            array = np.asarray(picture.convert("RGB")) if mode == "RGB" else None
    except _UNREADABLE as exc:
        raise BadInputError(f"{path}: not a readable image ({exc})") from None
    if text is None:
        raise NoSnapshotMetadata(
            f"{path}: no kinema snapshot metadata (made by `kinema snapshot embed`, then re-saved by another program?); "
            "if it is a snapshot, pass --frames K (5 or 9; and --jpeg-robust if it was embedded for JPEG) to expand it anyway"
        )
    info = SnapshotInfo.from_json(text, name=path)
    if tuple(size) != tuple(info.size):
        raise BadInputError(
            f"{path}: the snapshot was resized from {info.size[0]}x{info.size[1]} to {size[0]}x{size[1]}; "
            "the motion it carries does not survive resizing"
        )
    if array is None:
        raise BadInputError(f"{path}: a snapshot is 8-bit RGB, this image is mode {mode} (re-encoded?)")
    return from_hwc(array)[0], info
