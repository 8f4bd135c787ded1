"""Animated GIF in and out, through Pillow.

Reading: Pillow composites every frame onto the canvas (applying each frame's disposal
method), so frames come out full-size, RGB or RGBA when the GIF declares transparency.
Delays follow the convention browsers and FFmpeg share: a delay under 20 ms is shown
as 100 ms, so that is the duration we report.

Writing: each frame gets its own palette of up to ``colors`` entries (median cut), and
pixels take their nearest entry or are Floyd–Steinberg dithered onto the palette (see
:mod:`kinema.ops.color`, which the GIF restoration models are trained on). GIF
delays are whole centiseconds: frame boundaries are rounded on the cumulative timeline
so the total duration stays exact, and frames that would last under 20 ms are dropped
(their time goes to the previous frame) because viewers would stretch them to 100 ms.
Pillow's encoder needs all frames before it writes, so a GIF is held in memory as
8-bit palette images (one byte per pixel per frame).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from kinema.io.atomic import AtomicOutput, AtomicWriter
from kinema.types import BadInputError, Frame, KinemaError, MediaInfo, MediaKind, UnsupportedFormatError, check_frame_size

#: What Pillow raises for a damaged or hostile GIF (all found by fuzzing; see docs/reliability.md).
_DAMAGED = (OSError, EOFError, ValueError, SyntaxError, IndexError, struct.error, Image.DecompressionBombError)

MIN_DELAY_MS = 20
DEFAULT_DELAY_MS = 100


def _open(path: Path) -> Image.Image:
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: file is empty")
    try:
        im = Image.open(path)
    except _DAMAGED as exc:
        raise BadInputError(f"{path}: not a readable GIF ({exc})") from None
    if im.format != "GIF":
        im.close()
        raise BadInputError(f"{path}: is {im.format}, not a GIF")
    try:
        check_frame_size(path, *im.size)
    except BadInputError:
        im.close()
        raise
    return im


def _delay_ms(im: Image.Image) -> int:
    ms = int(im.info.get("duration") or 0)
    return DEFAULT_DELAY_MS if ms < MIN_DELAY_MS else ms


def probe_gif(path: Path) -> MediaInfo:
    """Frame count, per-frame delays, loop, transparency and palette size of a GIF."""
    path = Path(path)
    with _open(path) as im:
        delays: list[int] = []
        alpha = False
        try:
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                im.load()  # decode now: a truncated last frame must fail here, not mid-write
                delays.append(_delay_ms(im))
                alpha = alpha or "transparency" in im.info
            im.seek(0)
            im.load()
        except _DAMAGED as exc:
            raise BadInputError(f"{path}: truncated or corrupt GIF after {len(delays)} frames ({exc})") from None
        loop = int(im.info.get("loop", -1))  # no NETSCAPE extension: plays once
        palette = im.getpalette() or []
        colors = len(palette) // 3
        width, height = im.size
    if not delays:
        raise BadInputError(f"{path}: contains no frames")
    total = Fraction(sum(delays), 1000)
    constant = len(set(delays)) == 1
    return MediaInfo(
        path=path,
        kind=MediaKind.GIF,
        container="gif",
        codec="gif",
        width=width,
        height=height,
        frame_count=len(delays),
        start=Fraction(0),
        duration=total,
        fps=Fraction(1000, delays[0]) if constant else None,
        average_fps=Fraction(len(delays)) / total,
        time_base=Fraction(1, 1000),
        pixel_format="pal8",
        bit_depth=8,
        has_alpha=alpha,
        loop=loop,
        extra={"palette_colors": str(colors)},
    )


class GifReader:
    """Iterate a GIF's composited frames with exact timing (see module doc for delays)."""

    def __init__(self, path: Path, *, info: MediaInfo | None = None):
        self.path = Path(path)
        self.info = info if info is not None else probe_gif(self.path)

    def __iter__(self) -> Iterator[Frame]:
        mode = "RGBA" if self.info.has_alpha else "RGB"
        t = Fraction(0)
        with _open(self.path) as im:
            for i in range(self.info.frame_count):
                try:
                    im.seek(i)
                    array = np.asarray(im.convert(mode))
                except _DAMAGED as exc:
                    raise BadInputError(f"{self.path}: corrupt GIF frame {i} ({exc})") from None
                duration = Fraction(_delay_ms(im), 1000)
                yield Frame.decoded(array, pts=t, duration=duration, index=i)
                t += duration


@dataclass(frozen=True)
class GifOptions:
    colors: int = 256
    dither: bool = True
    #: Pixels less opaque than this become the GIF's transparent colour (GIF alpha is 1 bit).
    alpha_threshold: float = 0.5

    def validate(self) -> None:
        if not 2 <= self.colors <= 256:
            raise UnsupportedFormatError(f"GIF colours must be in 2..256, got {self.colors}")


def quantize(rgb: np.ndarray, colors: int, *, dither: bool) -> Image.Image:
    """``(H, W, 3)`` uint8 → a palette ("P") image of at most ``colors`` entries
    (median cut, then nearest colour or Floyd–Steinberg: :func:`kinema.ops.color.quantize_gif`)."""
    from kinema.ops.color import quantize_gif

    indices, palette = quantize_gif(rgb, colors, dither=dither)
    im = Image.fromarray(indices, "P")
    im.putpalette(palette.reshape(-1).tolist())
    return im


class GifWriter(AtomicWriter):
    """Collect frames, then write them as one animated GIF (atomically) on :meth:`close`."""

    def __init__(
        self, path: Path, *, options: GifOptions = GifOptions(), loop: int = 0, overwrite: bool = False
    ):
        """``loop``: repeat count, 0 = forever, -1 = play once (no loop extension)."""
        options.validate()
        if not -1 <= loop <= 65535:
            raise UnsupportedFormatError(f"GIF loop count must be in -1..65535, got {loop}")
        self.loop = loop
        self.path = Path(path)
        self.options = options
        self._out = AtomicOutput(self.path, overwrite=overwrite)
        self._frames: list[Image.Image] = []
        self._starts_cs: list[int] = []
        self._end_cs = 0
        self._size: tuple[int, int] | None = None
        self._alpha = False
        self.dropped = 0

    def write(self, frame: Frame) -> None:
        size = (frame.height, frame.width)
        if self._size is None:
            self._size = size
            self._alpha = frame.has_alpha
        elif size != self._size:
            raise KinemaError(f"frame {frame.index} is {frame.width}x{frame.height}, the GIF is {self._size[1]}x{self._size[0]}")
        start = round(frame.pts * 100)
        end = round(frame.end * 100)
        if self._starts_cs and start - self._starts_cs[-1] < MIN_DELAY_MS // 10:
            # Too close to the previous frame to be shown: drop it, keep the timeline.
            self.dropped += 1
            self._end_cs = max(self._end_cs, end)
            return
        self._starts_cs.append(start)
        self._end_cs = max(end, start + 1)
        self._frames.append(self._paletted(frame))

    def _paletted(self, frame: Frame) -> Image.Image:
        opts = self.options
        # Colour as stored, not flattened over a background: alpha is the palette's last slot.
        rgba = frame.pixels(bit_depth=8, alpha=frame.has_alpha)
        rgb = np.ascontiguousarray(rgba[:, :, :3]) if frame.has_alpha else rgba
        if not self._alpha:
            return quantize(rgb, opts.colors, dither=opts.dither)
        # The last palette slot is reserved for "transparent", the same index in every frame.
        im = quantize(rgb, opts.colors - 1, dither=opts.dither)
        index = opts.colors - 1
        palette = (im.getpalette() or [])[: 3 * index]
        palette += [0] * (3 * opts.colors - len(palette))
        im.putpalette(palette)
        if frame.has_alpha:
            clear = rgba[:, :, 3] < opts.alpha_threshold * 255
            pixels = np.array(im)
            pixels[clear] = index
            im = Image.fromarray(pixels, "P")
            im.putpalette(palette)
        return im

    def close(self) -> Path:
        if not self._frames:
            self._out.discard()
            raise KinemaError(f"{self.path}: no frames to write")
        bounds = self._starts_cs[1:] + [max(self._end_cs, self._starts_cs[-1] + MIN_DELAY_MS // 10)]
        durations = [10 * (b - a) for a, b in zip(self._starts_cs, bounds)]
        extra = {}
        if self.loop >= 0:
            extra["loop"] = self.loop
        if self._alpha:
            # Transparent pixels must show the background, not the previous frame.
            extra.update(transparency=self.options.colors - 1, disposal=2)
        else:
            extra["disposal"] = 1
        try:
            self._frames[0].save(
                self._out.path,
                format="GIF",
                save_all=True,
                append_images=self._frames[1:],
                duration=durations,
                optimize=False,
                **extra,
            )
        except BaseException:
            self._out.discard()
            raise
        self._frames.clear()
        return self._out.commit()

    def abort(self) -> None:
        self._frames.clear()
        self._out.discard()
