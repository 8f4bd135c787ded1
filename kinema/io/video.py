"""Video in, through PyAV: a probe that reads timing exactly, and a streaming reader.

Timing comes from the container, never from a nominal frame rate: every frame keeps its
own presentation timestamp (``pts × time_base`` as a Fraction), so variable-frame-rate
sources stay variable. The probe demuxes the whole video stream once (packets only, no
decoding — fast) to count frames and see the real timeline; the reader then decodes
lazily, one frame in flight plus one of look-ahead to know each frame's duration.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np


from kinema.types import AudioInfo, BadInputError, Frame, MediaInfo, MediaKind, check_frame_size

#: Container metadata key under which kinema keeps a GIF's loop count in a video.
LOOP_TAG = "kinema_loop"


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise BadInputError(f"{path}: file is empty")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise BadInputError(f"{path}: not a readable video ({_reason(exc)})") from None


def _reason(exc: av.error.FFmpegError) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip().rstrip(".")


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        # FFmpeg hides an MP4 track with zero samples, so this is also "zero frames".
        raise BadInputError(f"{path}: has no video stream (or an empty one)")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise BadInputError(f"{path}: its video stream names no codec FFmpeg knows (damaged header?)")
    return stream


def _alpha_decoder(stream: av.VideoStream) -> av.codec.CodecContext | None:
    """VP8/VP9 alpha in WebM/Matroska (``alpha_mode`` 1) travels as block side data, which
    FFmpeg's own VP8/VP9 decoders drop; the libvpx decoders read it (``yuva420p`` frames)."""
    name = {"vp8": "libvpx", "vp9": "libvpx-vp9"}.get(stream.codec_context.name)
    if name is None or str(stream.metadata.get("alpha_mode", "")) != "1":
        return None
    try:
        return av.codec.CodecContext.create(name, "r")
    except (av.error.FFmpegError, ValueError):  # a build without libvpx: colour only
        return None


def decode_video(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    """The stream's frames, alpha included where the default decoder would drop it."""
    decoder = _alpha_decoder(stream)
    if decoder is None:
        yield from container.decode(stream)
        return
    for packet in container.demux(stream):  # the last, empty packet flushes the decoder
        for frame in decoder.decode(packet):
            if frame.pts is None:
                frame.pts = packet.pts
            yield frame


def pixel_traits(pix_fmt: str) -> tuple[int, bool]:
    """(bits per colour sample, has alpha) of an FFmpeg pixel format name."""
    fmt = av.VideoFormat(pix_fmt)
    comps = fmt.components
    bits = max((c.bits for c in comps if not c.is_alpha), default=8)
    return bits, any(c.is_alpha for c in comps)


def _rate_from_deltas(deltas: list[int], time_base: Fraction) -> Fraction | None:
    """The constant frame rate the deltas show, or None when they vary (VFR).

    A timeline counts as constant when every step is within one tick of the median or
    within 0.5 % of it: containers with coarse time bases (1 ms in Matroska) alternate
    e.g. 33/34 ms for 30 fps, which is rounding, not variable rate.
    """
    if not deltas:
        return None
    med = statistics.median(deltas)
    if med <= 0:
        return None
    tol = max(1.0, 0.005 * med)
    if any(abs(d - med) > tol for d in deltas):
        return None
    mean = Fraction(sum(deltas), len(deltas)) * time_base
    # Snap to the usual NTSC/film rates when the mean is within rounding of one.
    approx = 1 / mean
    snapped = approx.limit_denominator(1001)
    return snapped if abs(snapped - approx) < Fraction(1, 1000) * approx else approx


def probe_video(path: Path) -> MediaInfo:
    """Describe a video file exactly (frame count, timeline, audio, rotation, depth).

    Raises :class:`BadInputError` for missing, empty, corrupt or frameless files.
    """
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        pts: list[int] = []
        last_duration: dict[int, int] = {}
        demuxed = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                demuxed += 1
                if packet.is_discard:  # cut away by an edit list: never shown
                    continue
                t = packet.pts if packet.pts is not None else packet.dts
                if t is None:
                    t = (pts[-1] + 1) if pts else 0
                pts.append(t)
                if packet.duration:
                    last_duration[t] = packet.duration
        except av.error.FFmpegError as exc:
            raise BadInputError(f"{path}: corrupt video data after {len(pts)} packets ({_reason(exc)})") from None
        if not pts:
            raise BadInputError(f"{path}: contains no video frames")
        indexed = stream.frames  # MP4/MOV know their sample count up front; 0 when unknown
        if indexed and demuxed < indexed:
            raise BadInputError(f"{path}: truncated (its index lists {indexed} frames, the file holds {demuxed})")
        pts.sort()
        deltas = [b - a for a, b in zip(pts, pts[1:])]
        fps = _rate_from_deltas(deltas, tb)
        step = statistics.median(deltas) if deltas else None
        # A constant-rate stream's last frame lasts one period, whatever the muxer wrote
        # (encoders often round the last packet's duration); otherwise trust the packet.
        tail = step if fps is not None else (last_duration.get(pts[-1]) or step)
        if tail is None:  # a single frame without duration: the container's rate is all there is
            rate = stream.average_rate or stream.guessed_rate or 25
            tail = max(1, round(1 / (Fraction(rate) * tb)))
        start = pts[0] * tb
        end = (pts[-1] + Fraction(tail)) * tb
        duration = end - start
        average = Fraction(len(pts)) / duration if duration > 0 else Fraction(25)
        if fps is None and len(pts) == 1:
            fps = 1 / (Fraction(tail) * tb)
        audio = None
        if container.streams.audio and container.streams.audio[0].codec_context is not None:  # a damaged one: ignored
            a = container.streams.audio[0]
            a_dur = a.duration * Fraction(a.time_base) if a.duration and a.time_base else None
            ctx = a.codec_context
            audio = AudioInfo(
                codec=ctx.codec.canonical_name if ctx.codec is not None else "unknown",
                sample_rate=int(ctx.sample_rate or 0),
                channels=int(ctx.channels or 0),
                duration=a_dur,
            )
        codec = stream.codec_context.codec.canonical_name if stream.codec_context.codec is not None else "unknown"
        pix_fmt = stream.codec_context.pix_fmt or "unknown"
        width, height = stream.codec_context.width, stream.codec_context.height
        container_name = container.format.name
        metadata = {k.lower(): v for k, v in container.metadata.items()}  # Matroska upper-cases keys
    check_frame_size(path, width, height)  # before decoding: a damaged header may claim anything
    rotation, pix_fmt, width, height = _first_frame_traits(path, pix_fmt, width, height)
    bits, alpha = pixel_traits(pix_fmt) if pix_fmt != "unknown" else (8, False)
    if rotation % 180:
        width, height = height, width
    loop = metadata.get(LOOP_TAG)
    return MediaInfo(
        path=path,
        kind=MediaKind.VIDEO,
        container=container_name,
        codec=codec,
        width=width,
        height=height,
        frame_count=len(pts),
        start=start,
        duration=duration,
        fps=fps,
        average_fps=average,
        time_base=tb,
        pixel_format=pix_fmt,
        bit_depth=bits,
        has_alpha=alpha,
        rotation=rotation,
        audio=audio,
        loop=int(loop) if loop is not None and loop.lstrip("-").isdigit() else None,
    )


def _first_frame_traits(path: Path, pix_fmt: str, width: int, height: int) -> tuple[int, str, int, int]:
    """Rotation and true pixel format come with decoded frames, so decode the first one."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        try:
            for frame in decode_video(container, stream):
                rot = int(round((frame.rotation or 0) / 90.0)) * 90 % 360
                return rot, frame.format.name, frame.width, frame.height
        except av.error.FFmpegError as exc:
            raise BadInputError(f"{path}: first video frame cannot be decoded ({_reason(exc)})") from None
    raise BadInputError(f"{path}: no video frame could be decoded")


def _rgb_format(bits: int, alpha: bool) -> str:
    if bits > 8:
        return "rgba64le" if alpha else "rgb48le"
    return "rgba" if alpha else "rgb24"


class VideoReader:
    """Iterate a video's frames lazily as :class:`Frame` objects with exact timing.

    Frames are rotated upright per the display matrix and converted from the source's
    colour matrix and range (BT.601/709, limited/full) to RGB; sources deeper than 8 bits
    are converted through 16-bit RGB so no precision is lost before the float tensor.
    """

    def __init__(self, path: Path, *, info: MediaInfo | None = None):
        self.path = Path(path)
        self.info = info if info is not None else probe_video(self.path)
        #: Frames dropped because their timestamp did not move forward (broken muxing).
        self.dropped = 0

    def __iter__(self) -> Iterator[Frame]:
        return self._frames()

    def frames_from(self, start: Fraction, *, index: int) -> Iterator[Frame]:
        """The frames from the one whose pts is ``start`` (frame number ``index``) to the
        end, decoding from the keyframe before it rather than from the first frame, so a
        late part of a long video costs no more to reach than an early one. Where the
        container cannot seek there exactly, it decodes from the start instead."""
        return self._frames(start, index, seek=True)

    def _frames(self, start: Fraction | None = None, first_index: int = 0, *, seek: bool = False) -> Iterator[Frame]:
        info = self.info
        fmt = _rgb_format(info.bit_depth, info.has_alpha)
        k = info.rotation // 90
        pending: tuple[np.ndarray, Fraction] | None = None
        index = 0
        nominal = 1 / info.average_fps
        with _open(self.path) as container:
            stream = _video_stream(container, self.path)
            stream.thread_type = "AUTO"
            tb = Fraction(stream.time_base) if stream.time_base else info.time_base
            if seek and start is not None:
                container.seek(int(start / tb), stream=stream, backward=True)
            last_pts: Fraction | None = None
            try:
                for av_frame in decode_video(container, stream):
                    if av_frame.pts is None:
                        t = info.start if last_pts is None else last_pts + nominal
                    else:
                        t = av_frame.pts * tb
                    if seek and last_pts is None and start is not None and t > start:
                        break  # the seek overshot: decode from the start below
                    if last_pts is not None and t <= last_pts:
                        self.dropped += 1
                        continue
                    last_pts = t
                    if start is not None and t < start:
                        index += 1
                        continue  # before the wanted frame: decoded, not converted
                    if start is not None and pending is None:
                        index = first_index if seek else index
                    array = _to_array(av_frame, fmt, k)
                    if pending is not None:
                        yield _frame(pending[0], pending[1], t - pending[1], index)
                        index += 1
                    pending = (array, t)
            except av.error.FFmpegError as exc:
                raise BadInputError(
                    f"{self.path}: corrupt video data after frame {index} ({_reason(exc)})"
                ) from None
        if seek and pending is None:
            yield from self._frames(start, first_index, seek=False)
            return
        if pending is None:
            raise BadInputError(f"{self.path}: no video frame could be decoded")
        if not seek and index + 1 + self.dropped < info.frame_count:
            raise BadInputError(
                f"{self.path}: only {index + 1} of {info.frame_count} frames could be decoded (truncated or corrupt)"
            )
        end = info.start + info.duration
        tail = end - pending[1] if end > pending[1] else nominal
        yield _frame(pending[0], pending[1], tail, index)


def _to_array(av_frame: av.VideoFrame, fmt: str, k: int) -> np.ndarray:
    kwargs = {}
    if av_frame.color_range == 2:  # full ("JPEG") range must be said, swscale assumes limited
        kwargs["src_color_range"] = 2
    array = av_frame.to_ndarray(format=fmt, **kwargs)
    if k:
        # The display matrix angle is counter-clockwise, as is np.rot90 on (row, col) arrays.
        array = np.ascontiguousarray(np.rot90(array, k=k))
    return array


def _frame(array: np.ndarray, pts: Fraction, duration: Fraction, index: int) -> Frame:
    return Frame.decoded(array, pts=pts, duration=duration, index=index)
