"""The types every kinema module shares: frames, media descriptions and errors.

Conventions:

* An image is a float32 tensor ``(3, H, W)``, RGB in [0, 1]; a batch of them is
  ``(N, 3, H, W)`` (``torch.stack`` of the ``image`` fields).
* Alpha, where a source has it, is a separate float32 plane ``(1, H, W)`` in [0, 1],
  not premultiplied.
* Time is exact: ``fractions.Fraction`` seconds, never floats, so that retiming and
  round trips through containers with different time bases lose nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # frames hold tensors; importing this module does not load torch
    import torch


#: The largest frame kinema decodes: 8192 × 8192 pixels (a float32 RGB frame of this size
#: is 805 MB). Files whose header claims more are refused before any pixel is decoded.
MAX_FRAME_PIXELS = 8192 * 8192


def check_frame_size(path, width: int, height: int) -> None:
    """Refuse a frame size no one can mean (a damaged header, a decompression bomb)."""
    if width <= 0 or height <= 0:
        raise BadInputError(f"{path}: claims a {width}x{height} frame")
    if width * height > MAX_FRAME_PIXELS:
        raise BadInputError(
            f"{path}: claims a {width}x{height} frame ({width * height / 1e6:.0f} megapixels), "
            f"over kinema's limit of {MAX_FRAME_PIXELS / 1e6:.0f} megapixels (8192x8192)"
        )


class KinemaError(Exception):
    """Base of every error kinema expects and explains; the CLI prints the message alone."""


class BadInputError(KinemaError):
    """The input is missing, empty, truncated, corrupt or otherwise unusable."""


class UnsupportedFormatError(KinemaError):
    """The input or output format (or a combination of options) is not supported."""


class OutputExistsError(KinemaError):
    """The output exists and overwriting was not asked for, or it would replace the input."""


class ModelMismatchError(KinemaError):
    """A weight file does not match the architecture or config that loads it."""


def parse_rate(text: str) -> Fraction:
    """A frame rate from ``"30"``, ``"30000/1001"`` or ``"29.97"`` (→ 30000/1001).

    Decimal spellings of the NTSC rates (23.976, 29.97, 59.94, …) mean N×1000/1001,
    as every editor reads them.
    """
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise BadInputError(f"not a frame rate: {text!r} (use e.g. 30, 30000/1001 or 29.97)") from None
    if value <= 0:
        raise BadInputError(f"frame rate must be positive, got {text!r}")
    if "." in text and "/" not in text:
        ntsc = Fraction(round(value * Fraction(1001, 1000))) * Fraction(1000, 1001)
        if ntsc.denominator == 1001 and abs(ntsc - value) < Fraction(1, 100):
            return ntsc
    return value


class MediaKind(enum.Enum):
    VIDEO = "video"
    GIF = "gif"
    IMAGES = "images"


class Frame:
    """One decoded frame with its exact timing. Immutable.

    ``image``: ``(3, H, W)`` float32 RGB in [0, 1].
    ``alpha``: ``(1, H, W)`` float32 in [0, 1] (straight, not premultiplied) or None.
    ``pts``: presentation time in seconds; kept as the source says it (it need not start
    at 0), so that audio and other streams stay in sync.
    ``duration``: how long the frame is shown, in seconds (> 0).

    Readers make frames with :meth:`decoded`, which keeps the stored ``(H, W, C)``
    uint8/uint16 samples and turns them into float tensors only when ``image`` or
    ``alpha`` is first read. A writer asks for :meth:`pixels`, so a file-to-file job
    never makes a float copy of a frame, nor imports torch, and a source frame written
    unchanged is copied. The tensors must not be changed in place (make a new frame with
    :meth:`replace`).
    """

    __slots__ = ("pts", "duration", "index", "_image", "_alpha", "_stored")

    def __init__(
        self, image: torch.Tensor, pts: Fraction, duration: Fraction, alpha: torch.Tensor | None = None, index: int = 0
    ):
        self._set(pts=pts, duration=duration, index=index, _image=image, _alpha=alpha, _stored=None)

    @classmethod
    def decoded(cls, pixels: np.ndarray, *, pts: Fraction, duration: Fraction, index: int = 0) -> Frame:
        """A frame from stored samples: ``(H, W)`` or ``(H, W, 1|2|3|4)`` uint8/uint16
        (gray, gray+alpha, RGB, RGBA)."""
        frame = cls.__new__(cls)
        frame._set(pts=pts, duration=duration, index=index, _image=None, _alpha=None, _stored=pixels)
        return frame

    def _set(self, **values) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"Frame is immutable; use frame.replace({name}=...)")

    def __reduce__(self):
        # Pickling and copying would otherwise restore the slots through __setattr__.
        return _rebuild_frame, (self.pts, self.duration, self.index, self._image, self._alpha, self._stored)

    def _decode(self) -> None:
        if self._stored is not None and self._image is None:
            from kinema.io.pixels import from_hwc

            # The stored samples stay too: a frame written unchanged (a source frame in a
            # retimed video) is then copied, not rounded back from floats.
            image, alpha = from_hwc(self._stored)
            self._set(_image=image, _alpha=alpha)

    @property
    def image(self) -> torch.Tensor:
        self._decode()
        return self._image

    @property
    def alpha(self) -> torch.Tensor | None:
        self._decode()
        return self._alpha

    @property
    def has_alpha(self) -> bool:
        if self._stored is not None:
            from kinema.io.pixels import has_alpha

            return has_alpha(self._stored)
        return self._alpha is not None

    @property
    def height(self) -> int:
        return int(self._stored.shape[0] if self._stored is not None else self._image.shape[-2])

    @property
    def width(self) -> int:
        return int(self._stored.shape[1] if self._stored is not None else self._image.shape[-1])

    @property
    def end(self) -> Fraction:
        return self.pts + self.duration

    def pixels(self, *, bit_depth: int = 8, alpha: bool = False, background: float = 0.0) -> np.ndarray:
        """The frame as a writer stores it: ``(H, W, 4)`` with alpha (opaque where the frame
        has none) or ``(H, W, 3)`` flattened over ``background``; uint8 or uint16."""
        from kinema.io import pixels

        if self._stored is not None:
            return pixels.stored_as(self._stored, bit_depth=bit_depth, alpha=alpha, background=background)
        image, plane = self._image, self._alpha
        if alpha:
            return pixels.to_hwc(image, image.new_ones((1, *image.shape[1:])) if plane is None else plane, bit_depth=bit_depth)
        return pixels.to_hwc(pixels.flatten(image, plane, background), bit_depth=bit_depth)

    def replace(self, **changes) -> Frame:
        """A copy with some of ``image``, ``alpha``, ``pts``, ``duration``, ``index`` changed."""
        unknown = set(changes) - {"image", "alpha", "pts", "duration", "index"}
        if unknown:
            raise TypeError(f"Frame has no field {sorted(unknown)[0]!r}")
        timing = {k: changes.get(k, getattr(self, k)) for k in ("pts", "duration", "index")}
        if "image" not in changes and "alpha" not in changes and self._stored is not None:
            frame = Frame.decoded(self._stored, **timing)
            frame._set(_image=self._image, _alpha=self._alpha)  # floats already made are shared
            return frame
        image = changes["image"] if "image" in changes else self.image
        return Frame(image=image, alpha=changes["alpha"] if "alpha" in changes else self.alpha, **timing)

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, pts={self.pts}, duration={self.duration}, {self.width}x{self.height}, alpha={self.has_alpha})"


def _rebuild_frame(pts, duration, index, image, alpha, stored) -> Frame:
    frame = Frame.__new__(Frame)
    frame._set(pts=pts, duration=duration, index=index, _image=image, _alpha=alpha, _stored=stored)
    return frame


class CutMode(str, enum.Enum):
    """How ``interpolate`` finds scene changes (:mod:`kinema.pipelines.interpolate`)."""

    #: The learned detector, in a pass over the file before the work: cuts, fades, dissolves.
    AUTO = "auto"
    #: Pair by pair, a colour-histogram jump confirmed by optical flow: hard cuts only.
    QUICK = "quick"
    OFF = "off"


class DeblurMode(str, enum.Enum):
    """Whether a pipeline restores motion-blurred frames first (:mod:`kinema.pipelines.deblur`)."""

    #: Deblur when a look at a few frames finds them blurred; otherwise leave them as they are.
    AUTO = "auto"
    ON = "on"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """The first audio stream of a source; kinema copies its packets, never re-encodes."""

    codec: str
    sample_rate: int
    channels: int
    duration: Fraction | None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What ``kinema info`` reports and what writers need to keep timing.

    ``width``/``height`` are as displayed (after rotation metadata is applied).
    ``fps`` is the constant frame rate, or None when the timestamps are irregular (VFR);
    ``average_fps`` is always set. ``time_base`` is a tick in which every source
    timestamp is an integer, so writers can reproduce them exactly.
    ``loop`` is the GIF loop count (0 = forever, -1 = play once), or None where the
    source says nothing of looping (ordinary video).
    """

    path: Path
    kind: MediaKind
    container: str
    codec: str
    width: int
    height: int
    frame_count: int
    start: Fraction
    duration: Fraction
    fps: Fraction | None
    average_fps: Fraction
    time_base: Fraction
    pixel_format: str
    bit_depth: int
    has_alpha: bool
    rotation: int = 0
    audio: AudioInfo | None = None
    loop: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def vfr(self) -> bool:
        return self.fps is None

    def as_dict(self) -> dict:
        """JSON-ready view (fractions as ``"num/den"`` strings and floats)."""

        def frac(x: Fraction | None):
            return None if x is None else {"exact": f"{x.numerator}/{x.denominator}", "value": float(x)}

        audio = None
        if self.audio is not None:
            audio = {
                "codec": self.audio.codec,
                "sample_rate": self.audio.sample_rate,
                "channels": self.audio.channels,
                "duration": frac(self.audio.duration),
            }
        return {
            "path": str(self.path),
            "kind": self.kind.value,
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "frames": self.frame_count,
            "start": frac(self.start),
            "duration": frac(self.duration),
            "fps": frac(self.fps),
            "average_fps": frac(self.average_fps),
            "vfr": self.vfr,
            "time_base": frac(self.time_base),
            "pixel_format": self.pixel_format,
            "bit_depth": self.bit_depth,
            "alpha": self.has_alpha,
            "rotation": self.rotation,
            "audio": audio,
            "loop": self.loop,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }
