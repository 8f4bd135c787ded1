"""Joining encoded video files end to end without decoding them: packets are copied.

The parts of a long video (:mod:`kinema.pipelines.chunked`) are encoded in the final codec
by different workers; joining them is then a copy, not a second encode. That is only
valid when every part holds one video stream with identical codec parameters (the same
SPS/PPS for H.264), each part starts on a keyframe, and decoding timestamps keep rising
across the seams: :func:`can_join` checks all of it, reading packets only, and the caller
re-encodes when it says no.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.error

from kinema.io.atomic import AtomicOutput
from kinema.io.audio import AudioCopier
from kinema.io.video_out import muxer_options
from kinema.types import UnsupportedFormatError


def _signature(stream: av.VideoStream) -> tuple:
    ctx = stream.codec_context
    return (ctx.name, ctx.width, ctx.height, ctx.format.name if ctx.format else None, bytes(ctx.extradata or b""))


def can_join(parts: Sequence[Path]) -> bool:
    """Whether :func:`join_packets` can copy ``parts`` into one stream (see the module doc)."""
    signature, last_dts = None, None
    for part in parts:
        with av.open(str(part), metadata_errors="ignore") as container:
            if len(container.streams.video) != 1:
                return False
            stream = container.streams.video[0]
            if signature is None:
                signature = _signature(stream)
            elif _signature(stream) != signature:
                return False
            tb = Fraction(stream.time_base)
            first = True
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.dts is None or packet.pts is None or (first and not packet.is_keyframe):
                    return False
                dts = packet.dts * tb
                if last_dts is not None and dts <= last_dts:
                    return False
                last_dts, first = dts, False
    return signature is not None


def join_packets(
    parts: Sequence[Path],
    output: Path,
    *,
    time_base: Fraction,
    metadata: dict[str, str] | None = None,
    audio_from: Path | None = None,
    overwrite: bool = False,
) -> int:
    """Copy the video packets of ``parts``, in order, into ``output`` (written whole or
    not at all), with ``audio_from``'s audio copied beside them; returns the packet count.
    Call :func:`can_join` first."""
    output = Path(output)
    target = AtomicOutput(output, overwrite=overwrite)
    audio, count = None, 0
    try:
        with av.open(str(target.path), "w", options=muxer_options(output, metadata or {})) as out:
            for key, value in (metadata or {}).items():
                out.metadata[key] = value
            with av.open(str(parts[0]), metadata_errors="ignore") as first:
                stream = out.add_stream_from_template(first.streams.video[0])
            stream.time_base = time_base
            audio = AudioCopier(audio_from, out) if audio_from is not None else None
            for part in parts:
                with av.open(str(part), metadata_errors="ignore") as container:
                    source = container.streams.video[0]
                    tb = Fraction(source.time_base)
                    for packet in container.demux(source):
                        if packet.size == 0:
                            continue
                        if audio is not None:
                            audio.mux_until(packet.dts * tb)
                        packet.stream = stream
                        try:
                            out.mux(packet)
                        except av.error.FFmpegError as exc:
                            raise UnsupportedFormatError(f"{output}: the muxer refused a packet ({exc})") from None
                        count += 1
            if audio is not None:
                audio.mux_until(None)
    except BaseException:
        target.discard()
        raise
    finally:
        if audio is not None:
            audio.close()
    target.commit()
    return count
