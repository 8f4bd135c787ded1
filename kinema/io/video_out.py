"""Video out, through PyAV: H.264, or lossless FFV1 / PNG-in-Matroska, with exact timing.

Each frame is written with its own timestamp in the caller's time base, and each packet
carries the frame's real duration, so a variable-frame-rate timeline (a GIF's delays, a
phone recording) survives, last frame included. B-frames are disabled for such
timelines: with them x264 invents decode timestamps on a constant grid and MP4 then
misstates the durations.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from kinema.io.atomic import AtomicOutput, AtomicWriter
from kinema.io.audio import AudioCopier

from kinema.types import Frame, KinemaError, UnsupportedFormatError


class VideoCodec(enum.Enum):
    H264 = "h264"  # libx264, yuv420p 8-bit, BT.709 limited range: plays everywhere
    FFV1 = "ffv1"  # lossless RGB(A), 8 or 16 bits; Matroska/AVI
    PNG = "png"  # lossless RGB(A), 8 or 16 bits, one PNG per frame; .mov (PyAV refuses it in .mkv)


class OddSize(enum.Enum):
    """What to do with an odd width/height when the codec subsamples chroma (4:2:0)."""

    PAD = "pad"  # repeat the last row/column (one pixel)
    CROP = "crop"  # drop the last row/column
    ERROR = "error"


VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".nut"}
_CODEC_SUFFIXES = {
    VideoCodec.H264: {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".nut"},
    VideoCodec.FFV1: {".mkv", ".avi", ".nut"},
    VideoCodec.PNG: {".mov", ".avi", ".nut"},
}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def muxer_options(path: Path, metadata: dict[str, str]) -> dict[str, str]:
    """Container options for writing ``metadata`` to ``path``."""
    custom_tags = any(k not in {"title", "comment", "artist", "date"} for k in metadata)
    if Path(path).suffix.lower() in {".mp4", ".m4v", ".mov"} and custom_tags:
        return {"movflags": "use_metadata_tags"}  # otherwise MP4 drops custom keys
    return {}


@dataclass(frozen=True)
class VideoOptions:
    codec: VideoCodec = VideoCodec.H264
    crf: int = 18
    preset: str = "medium"
    odd_size: OddSize = OddSize.PAD
    #: Bits per sample for the lossless codecs (8 or 16); None follows the source depth.
    bit_depth: int | None = None
    #: Grey level that transparent pixels are composited onto when the codec has no alpha.
    background: float = 0.0
    #: H.264 B-frames (False: every frame is decoded in display order, so a file's
    #: packets can be joined to another's by copying; see :mod:`kinema.io.remux`).
    b_frames: bool = True

    def validate(self, suffix: str | None = None) -> None:
        """Refuse values no output accepts, and (given ``suffix``) a codec its container cannot hold."""
        if suffix is not None and suffix not in _CODEC_SUFFIXES[self.codec]:
            allowed = ", ".join(sorted(_CODEC_SUFFIXES[self.codec]))
            raise UnsupportedFormatError(f"codec {self.codec.value} cannot be written to {suffix} (use {allowed})")
        if not 0 <= self.crf <= 51:
            raise UnsupportedFormatError(f"crf must be in 0..51, got {self.crf}")
        if self.preset not in PRESETS:
            raise UnsupportedFormatError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.bit_depth not in (None, 8, 16):
            raise UnsupportedFormatError(f"bit depth must be 8 or 16, got {self.bit_depth}")


def _pix_fmts(codec: VideoCodec, bits: int, alpha: bool) -> tuple[str, str]:
    """(encoder pixel format, RGB array format fed to it) for a codec."""
    if codec is VideoCodec.H264:
        return "yuv420p", "rgb24"
    if codec is VideoCodec.FFV1:
        if bits > 8:
            return ("rgba64le", "rgba64le") if alpha else ("rgb48le", "rgb48le")
        return ("bgra", "rgba") if alpha else ("bgr0", "rgb24")
    if bits > 8:
        return ("rgba64be", "rgba64le") if alpha else ("rgb48be", "rgb48le")
    return ("rgba", "rgba") if alpha else ("rgb24", "rgb24")


class VideoWriter(AtomicWriter):
    """Write frames to a video file, atomically (temp file beside it, renamed on close).

    ``time_base``: tick in which frame timestamps are written; a frame's pts is rounded
    to it (exact when the source used the same or a coarser tick). ``constant_rate``:
    say False for irregular timelines (turns B-frames off, see module doc).
    ``audio_from``: copy that file's first audio stream unchanged. ``metadata``: container
    tags. Use as a context manager; an exception discards the partial file.
    """

    def __init__(
        self,
        path: Path,
        *,
        options: VideoOptions = VideoOptions(),
        time_base: Fraction = Fraction(1, 90000),
        rate: Fraction = Fraction(25),
        constant_rate: bool = True,
        source_bit_depth: int = 8,
        alpha: bool = False,
        audio_from: Path | None = None,
        metadata: dict[str, str] | None = None,
        overwrite: bool = False,
    ):
        self.path = Path(path)
        options.validate(self.path.suffix.lower())
        self.options = options
        self.time_base = Fraction(time_base)
        self.rate = Fraction(rate)
        self.constant_rate = constant_rate
        self.bits = options.bit_depth or (16 if source_bit_depth > 8 else 8)
        self.alpha = alpha and options.codec is not VideoCodec.H264
        self.audio_from = audio_from
        self.metadata = dict(metadata or {})
        self._out = AtomicOutput(self.path, overwrite=overwrite)
        self._container: av.container.OutputContainer | None = None
        self._stream = None
        self._audio: AudioCopier | None = None
        self._size: tuple[int, int] | None = None
        self._last_tick: int | None = None
        self._durations: dict[int, int] = {}
        self.frames = 0

    # -- setup on the first frame, when the size is known ---------------------------------
    def _start(self, height: int, width: int) -> None:
        codec = self.options.codec
        if codec is VideoCodec.H264 and (width % 2 or height % 2):
            if self.options.odd_size is OddSize.ERROR:
                raise UnsupportedFormatError(
                    f"frame size {width}x{height} is odd; H.264 4:2:0 needs even sizes "
                    "(use --odd-size pad/crop, or a lossless codec)"
                )
            if self.options.odd_size is OddSize.CROP and (width < 2 or height < 2):
                raise UnsupportedFormatError(f"frame size {width}x{height} is too small to crop to even")
        self._size = (height, width)
        try:
            container = av.open(str(self._out.path), "w", options=muxer_options(self.path, self.metadata))
        except av.error.FFmpegError as exc:
            raise UnsupportedFormatError(f"{self.path}: cannot create output ({exc})") from None
        self._container = container
        for key, value in self.metadata.items():
            container.metadata[key] = value
        enc_fmt, _ = _pix_fmts(codec, self.bits, self.alpha)
        name = {"h264": "libx264", "ffv1": "ffv1", "png": "png"}[codec.value]
        stream = container.add_stream(name, rate=self.rate.limit_denominator(1 << 16))
        ew, eh = self._encoded_size(width, height)
        stream.width, stream.height = ew, eh
        stream.pix_fmt = enc_fmt
        stream.time_base = self.time_base
        ctx = stream.codec_context
        ctx.time_base = self.time_base
        ctx.thread_type = "AUTO"
        if codec is VideoCodec.H264:
            ctx.options = {"crf": str(self.options.crf), "preset": self.options.preset}
            if not self.constant_rate or not self.options.b_frames:
                ctx.max_b_frames = 0
            # Tag what we convert with, so players (and our reader) convert back the same way.
            ctx.colorspace = 1  # BT.709
            ctx.color_primaries = 1
            ctx.color_trc = 1
            ctx.color_range = 1  # limited ("MPEG")
        elif codec is VideoCodec.FFV1:
            ctx.options = {"level": "3", "slicecrc": "1"}
        self._stream = stream
        if self.audio_from is not None:
            self._audio = AudioCopier(self.audio_from, container)

    def _encoded_size(self, width: int, height: int) -> tuple[int, int]:
        if self.options.codec is not VideoCodec.H264:
            return width, height
        if self.options.odd_size is OddSize.CROP:
            return width - width % 2, height - height % 2
        return width + width % 2, height + height % 2

    # -- per frame ---------------------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        if self._size is None:
            self._start(frame.height, frame.width)
        elif (frame.height, frame.width) != self._size:
            raise KinemaError(
                f"frame {frame.index} is {frame.width}x{frame.height}, the video is "
                f"{self._size[1]}x{self._size[0]}: one output needs one frame size"
            )
        tick = round(frame.pts / self.time_base)
        if self._last_tick is not None and tick <= self._last_tick:
            tick = self._last_tick + 1  # two frames closer than one tick: keep order
        self._last_tick = tick
        self._durations[tick] = max(1, round(frame.duration / self.time_base))
        av_frame = self._to_av(frame)
        av_frame.pts = tick
        av_frame.time_base = self.time_base
        if self._audio is not None:
            self._audio.mux_until(frame.pts)
        self._mux(self._stream.encode(av_frame))
        self.frames += 1

    def _to_av(self, frame: Frame) -> av.VideoFrame:
        h264 = self.options.codec is VideoCodec.H264
        # A video without alpha shows frames that have it over the background colour.
        array = frame.pixels(bit_depth=8 if h264 else self.bits, alpha=self.alpha, background=self.options.background)
        height, width = array.shape[:2]
        ew, eh = self._encoded_size(width, height)
        if (eh, ew) != (height, width):
            if eh > height or ew > width:
                array = np.pad(array, ((0, eh - height), (0, ew - width), (0, 0)), mode="edge")
            else:
                array = array[:eh, :ew]
        enc_fmt, in_fmt = _pix_fmts(self.options.codec, self.bits, self.alpha)
        av_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format=in_fmt)
        if h264:
            return av_frame.reformat(format=enc_fmt, dst_colorspace=1, dst_color_range=1)
        return av_frame if enc_fmt == in_fmt else av_frame.reformat(format=enc_fmt)

    def _mux(self, packets) -> None:
        for packet in packets:
            # The encoder does not carry frame durations through; the muxer needs them
            # for the last frame and for Matroska's per-block durations.
            duration = self._durations.pop(packet.pts, None) if packet.pts is not None else None
            if duration is not None:
                packet.duration = duration
            try:
                self._container.mux(packet)
            except av.error.FFmpegError as exc:
                raise UnsupportedFormatError(f"{self.path}: the muxer refused a packet ({exc})") from None

    # -- finish ----------------------------------------------------------------------------
    def close(self) -> Path:
        """Flush the encoder, copy the remaining audio and move the file into place."""
        if self._container is None:
            self._out.discard()
            raise KinemaError(f"{self.path}: no frames to write")
        try:
            self._mux(self._stream.encode(None))
            if self._audio is not None:
                self._audio.mux_until(None)
                self._audio.close()
            self._container.close()
        except BaseException:
            self.abort()
            raise
        return self._out.commit()

    def abort(self) -> None:
        if self._audio is not None:
            self._audio.close()
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away anyway
                pass
        self._out.discard()
