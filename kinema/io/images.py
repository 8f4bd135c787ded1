"""Image sequences in and out (PNG 8/16-bit, JPEG, TIFF, BMP, WebP), through OpenCV.

OpenCV rather than Pillow because Pillow has no 16-bit RGB mode: it would silently
truncate 48-bit PNGs to 8 bits. A sequence is a folder (or a glob pattern) of images,
sorted naturally (``2.png`` before ``10.png``).

Still images carry no timing, so kinema writes a small sidecar, ``kinema.json``, next to
the frames: each file's exact timestamp and duration in one time base, the GIF loop
count if any, and the name of the audio sidecar (``audio.mov``, or ``audio.mka`` for
codecs QuickTime cannot hold: the source's audio packets copied unchanged). Reading a folder back with its sidecar restores the timeline
exactly; a folder without one is timed at ``fps`` (25 unless told).
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.error
import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from kinema.io.atomic import AtomicOutput, AtomicWriter, check_output
from kinema.io.audio import AudioCopier
from kinema.io.pixels import as_hwc, has_alpha, to_hwc

if TYPE_CHECKING:
    import torch

from kinema.types import MAX_FRAME_PIXELS, BadInputError, Frame, KinemaError, MediaInfo, MediaKind, UnsupportedFormatError, check_frame_size

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
SIDECAR = "kinema.json"
#: QuickTime keeps audio timestamps exactly (negative ones too: AAC priming, edit lists);
#: Matroska takes any codec but rounds to milliseconds and shifts negative starts.
AUDIO_SIDECARS = ("audio.mov", "audio.mka")
DEFAULT_FPS = Fraction(25)
#: (channels, bits per sample) → the FFmpeg name of that layout, for ``kinema info``.
_PIX_FMT = {
    (1, 8): "gray", (1, 16): "gray16", (2, 8): "ya8", (2, 16): "ya16",
    (3, 8): "rgb24", (3, 16): "rgb48", (4, 8): "rgba", (4, 16): "rgba64",
}


def natural_key(path: Path) -> list:
    """Sort key that orders embedded numbers by value: ``f2.png`` < ``f10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def is_pattern(path: Path) -> bool:
    return any(ch in str(path) for ch in "*?[")


def list_frames(source: Path) -> list[Path]:
    """The image files of a sequence (a folder or a glob pattern), naturally sorted."""
    if is_pattern(source):
        files = [Path(p) for p in glob.glob(str(source))]
    elif source.is_dir():
        files = [p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    else:
        raise BadInputError(f"{source}: no such folder")
    files = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    if not files:
        raise BadInputError(f"{source}: contains no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    kinds = {p.suffix.lower().replace("jpeg", "jpg").replace("tiff", "tif") for p in files}
    if len(kinds) > 1:
        raise BadInputError(f"{source}: mixes image types {sorted(kinds)}; use a pattern such as '*.png'")
    return sorted(files, key=natural_key)


@contextmanager
def _libpng_quiet():
    """libpng prints its complaint about a damaged file straight to stderr (file
    descriptor 2) before OpenCV returns; kinema says it in its own one line instead."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def read_image(path: Path) -> np.ndarray:
    """One image file → ``(H, W, C)`` uint8/uint16 RGB(A) (or ``(H, W)`` gray)."""
    if not Path(path).is_file():
        raise BadInputError(f"{path}: no such image file")
    try:  # the header's size first: OpenCV would allocate whatever a damaged header claims
        with Image.open(path) as header:
            check_frame_size(path, *header.size)
    except Image.DecompressionBombError as exc:  # Pillow's own, higher limit
        raise BadInputError(f"{path}: claims a frame over kinema's limit of {MAX_FRAME_PIXELS / 1e6:.0f} megapixels ({exc})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass  # not a format Pillow knows, or damaged: OpenCV decides below
    data = np.fromfile(path, dtype=np.uint8)
    with _libpng_quiet():
        array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if array is None:
        raise BadInputError(f"{path}: not a readable image (empty, truncated or corrupt)")
    if array.dtype not in (np.uint8, np.uint16):
        raise UnsupportedFormatError(f"{path}: {array.dtype} pixels are not supported (8 or 16-bit only)")
    if array.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB
        array = cv2.cvtColor(array, code)
    return array


def _sidecar(folder: Path) -> dict | None:
    """``kinema.json`` checked field by field: a damaged or hand-edited sidecar is refused
    with its first problem, never half-used."""
    path = folder / SIDECAR
    if not path.is_file():
        return None

    def bad(why: str):
        raise BadInputError(f"{path}: unreadable timing sidecar ({why})")

    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        bad(str(exc))
    if not isinstance(data, dict):
        bad("not a JSON object")
    try:
        tb = Fraction(data["time_base"]) if isinstance(data.get("time_base"), str) else None
    except (ValueError, ZeroDivisionError):
        tb = None
    if tb is None or tb <= 0:
        bad(f"time_base {data.get('time_base')!r} is not a positive fraction")
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        bad("no frames listed")
    for i, entry in enumerate(frames):
        ok = isinstance(entry, dict) and isinstance(entry.get("file"), str)
        ok = ok and all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) for k in ("pts", "duration"))
        if not ok or entry["duration"] <= 0 or abs(entry["pts"]) > 1 << 62 or entry["duration"] > 1 << 62:
            bad(f"frame {i} needs a file name, an integer pts and a positive integer duration")
        if i and entry["pts"] <= frames[i - 1]["pts"]:
            bad(f"frame {i}'s pts does not follow frame {i - 1}'s")
    audio = data.get("audio")
    if audio is not None and (not isinstance(audio, str) or Path(audio).name != audio or audio not in AUDIO_SIDECARS):
        bad(f"audio {audio!r} is not one of {', '.join(AUDIO_SIDECARS)}")
    loop = data.get("loop")
    if loop is not None and (not isinstance(loop, int) or isinstance(loop, bool) or loop < -1 or loop > 65535):
        bad(f"loop {loop!r} is not -1, 0 or a repeat count")
    return data


def probe_images(source: Path, *, fps: Fraction | None = None) -> MediaInfo:
    """Describe an image sequence; the timing comes from ``kinema.json`` or ``fps``."""
    source = Path(source)
    files = list_frames(source)
    first = read_image(files[0])
    height, width = first.shape[:2]
    channels = 1 if first.ndim == 2 else first.shape[2]
    folder = source.parent if is_pattern(source) else source
    meta = _sidecar(folder) if fps is None else None
    if meta is not None:
        listed = [entry["file"] for entry in meta["frames"]]
        if listed != [p.name for p in files]:
            raise BadInputError(
                f"{folder / SIDECAR} lists {len(listed)} frames that do not match the "
                f"{len(files)} images in the folder; remove it or pass --fps"
            )
        tb = Fraction(meta["time_base"])
        start = meta["frames"][0]["pts"] * tb
        end = (meta["frames"][-1]["pts"] + meta["frames"][-1]["duration"]) * tb
        steps = {e["duration"] for e in meta["frames"]}
        rate = 1 / (steps.pop() * tb) if len(steps) == 1 else None
        audio = folder / meta["audio"] if meta.get("audio") else None
        extra = {"timing": SIDECAR}
        if audio is not None:
            extra["audio_file"] = str(audio)
        loop = meta.get("loop")
    else:
        rate = Fraction(fps) if fps is not None else DEFAULT_FPS
        if rate <= 0:
            raise BadInputError(f"fps must be positive, got {fps}")
        tb, start, end = 1 / rate, Fraction(0), len(files) / rate
        extra = {"timing": f"{float(rate):g} fps" + ("" if fps is not None else " (assumed)")}
        loop = None
    return MediaInfo(
        path=source,
        kind=MediaKind.IMAGES,
        container="images",
        codec=files[0].suffix.lower().lstrip("."),
        width=width,
        height=height,
        frame_count=len(files),
        start=start,
        duration=end - start,
        fps=rate,
        average_fps=len(files) / (end - start),
        time_base=tb,
        pixel_format=_PIX_FMT[channels, first.dtype.itemsize * 8],
        bit_depth=first.dtype.itemsize * 8,
        has_alpha=channels in (2, 4),
        loop=loop,
        extra=extra,
    )


class ImageSequenceReader:
    """Iterate an image sequence lazily; every image must have the first one's size."""

    def __init__(self, source: Path, *, fps: Fraction | None = None, info: MediaInfo | None = None):
        self.source = Path(source)
        self.info = info if info is not None else probe_images(self.source, fps=fps)

    def __iter__(self) -> Iterator[Frame]:
        files = list_frames(self.source)
        folder = self.source.parent if is_pattern(self.source) else self.source
        meta = _sidecar(folder) if self.info.extra.get("timing") == SIDECAR else None
        tb = self.info.time_base
        for i, path in enumerate(files):
            array = read_image(path)
            if array.shape[:2] != (self.info.height, self.info.width):
                raise BadInputError(
                    f"{path}: is {array.shape[1]}x{array.shape[0]}, the sequence is "
                    f"{self.info.width}x{self.info.height}"
                )
            if meta is not None:
                entry = meta["frames"][i]
                pts, duration = entry["pts"] * tb, entry["duration"] * tb
            else:
                pts, duration = i * tb, tb
            if self.info.has_alpha and not has_alpha(array):  # one file of the sequence is opaque
                array = as_hwc(array)
                array = np.concatenate([array, np.full_like(array[:, :, :1], np.iinfo(array.dtype).max)], axis=2)
            yield Frame.decoded(array, pts=pts, duration=duration, index=i)


@dataclass(frozen=True)
class ImageOptions:
    #: 8 or 16 bits per sample; None follows the source (16 for sources deeper than 8).
    bit_depth: int | None = None
    #: zlib level 0-9: 3 is ~3× faster than 9 for a few percent more bytes.
    compression: int = 3

    def validate(self) -> None:
        if self.bit_depth not in (None, 8, 16):
            raise UnsupportedFormatError(f"bit depth must be 8 or 16, got {self.bit_depth}")
        if not 0 <= self.compression <= 9:
            raise UnsupportedFormatError(f"PNG compression must be in 0..9, got {self.compression}")


def encode_image(array: np.ndarray, suffix: str, *, compression: int = 3, name: Path | str = "image") -> np.ndarray:
    """``(H, W, 3|4)`` RGB(A) uint8/uint16 → encoded bytes of the format ``suffix`` names."""
    code = cv2.COLOR_RGBA2BGRA if array.shape[2] == 4 else cv2.COLOR_RGB2BGR
    params = [cv2.IMWRITE_PNG_COMPRESSION, compression] if suffix.lower() == ".png" else []
    try:
        ok, data = cv2.imencode(suffix, cv2.cvtColor(array, code), params)
    except cv2.error:
        ok = False
    if not ok:
        raise KinemaError(f"{name}: cannot encode a {array.dtype} image as {suffix}")
    return data


def write_image(path: Path, image: torch.Tensor, alpha: torch.Tensor | None = None, *, bit_depth: int = 8, overwrite: bool = False) -> Path:
    """Write one ``(3, H, W)`` image (and optional ``(1, H, W)`` alpha) atomically.

    The format comes from the suffix (PNG keeps 16 bits and alpha; JPEG is 8-bit RGB).
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UnsupportedFormatError(f"{path}: not an image file name (use one of {', '.join(sorted(IMAGE_SUFFIXES))})")
    check_output(path, overwrite=overwrite)
    data = encode_image(to_hwc(image, alpha, bit_depth=bit_depth), path.suffix, name=path)
    out = AtomicOutput(path, overwrite=overwrite)
    try:
        out.path.write_bytes(data.tobytes())  # numpy.tofile reports a full disk without errno
        return out.commit()
    finally:
        out.discard()


class ImageSequenceWriter(AtomicWriter):
    """Write frames as ``frame_000000.png`` … into a new folder, plus ``kinema.json``.

    The folder is built under a temporary name and renamed on :meth:`close`.
    ``time_base``: tick for the sidecar timestamps. ``audio_from``: copy that file's
    audio into ``audio.mka``.
    """

    def __init__(
        self,
        folder: Path,
        *,
        options: ImageOptions = ImageOptions(),
        time_base: Fraction = Fraction(1, 90000),
        source_bit_depth: int = 8,
        audio_from: Path | None = None,
        loop: int | None = None,
        overwrite: bool = False,
    ):
        options.validate()
        self.folder = Path(folder)
        if self.folder.suffix.lower() in IMAGE_SUFFIXES:
            raise UnsupportedFormatError(f"{folder}: an image sequence is written to a folder, not a {self.folder.suffix} file")
        self.options = options
        self.bits = options.bit_depth or (16 if source_bit_depth > 8 else 8)
        self.time_base = Fraction(time_base)
        self.audio_from = audio_from
        self.loop = loop
        self._out = AtomicOutput(self.folder, directory=True, overwrite=overwrite)
        self._entries: list[dict] = []
        self._size: tuple[int, int] | None = None

    def write(self, frame: Frame) -> None:
        size = (frame.height, frame.width)
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise KinemaError(f"frame {frame.index} is {frame.width}x{frame.height}, the sequence is {self._size[1]}x{self._size[0]}")
        name = f"frame_{len(self._entries):06d}.png"
        array = frame.pixels(bit_depth=self.bits, alpha=frame.has_alpha)
        encoded = encode_image(array, ".png", compression=self.options.compression, name=self.folder / name)
        (self._out.path / name).write_bytes(encoded.tobytes())
        pts = round(frame.pts / self.time_base)
        self._entries.append({"file": name, "pts": pts, "duration": max(1, round(frame.end / self.time_base) - pts)})

    def close(self) -> Path:
        if not self._entries:
            self._out.discard()
            raise KinemaError(f"{self.folder}: no frames to write")
        try:
            audio = self._copy_audio() if self.audio_from is not None else None
            tb = self.time_base
            meta = {
                "format": "kinema image sequence",
                "version": 1,
                "time_base": f"{tb.numerator}/{tb.denominator}",
                "loop": self.loop,
                "audio": audio,
                "frames": self._entries,
            }
            (self._out.path / SIDECAR).write_text(json.dumps(meta, indent=1) + "\n")
        except BaseException:
            self._out.discard()
            raise
        return self._out.commit()

    def _copy_audio(self) -> str:
        for name in AUDIO_SIDECARS:
            target = self._out.path / name
            try:
                with av.open(str(target), "w") as container:
                    copier = AudioCopier(self.audio_from, container)
                    try:
                        copier.mux_until(None)
                    finally:
                        copier.close()
                return name
            except (UnsupportedFormatError, av.error.FFmpegError):
                target.unlink(missing_ok=True)
        raise UnsupportedFormatError(f"{self.audio_from}: its audio cannot be stored beside the frames; pass --no-audio")

    def abort(self) -> None:
        self._out.discard()
