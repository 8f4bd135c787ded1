"""Audio passthrough: copy a source's audio packets into an output, bit for bit.

kinema never re-encodes audio. The copier is fed the video timeline as it is written
(``mux_until(t)``) so that audio and video packets interleave in time order and neither
the muxer nor we buffer a whole stream.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error

from kinema.types import BadInputError, UnsupportedFormatError


class AudioCopier:
    """Copies the first audio stream of ``source`` into ``output`` without decoding.

    Construct it before the first packet is muxed (the stream must exist when the
    header is written).
    """

    def __init__(self, source: Path, output: av.container.OutputContainer):
        self.source = Path(source)
        try:
            self._input = av.open(str(self.source), metadata_errors="ignore")  # like the video reader
        except av.error.FFmpegError as exc:
            raise BadInputError(f"{source}: cannot read audio ({exc})") from None
        if not self._input.streams.audio:
            self._input.close()
            raise BadInputError(f"{source}: has no audio stream")
        self._in_stream = self._input.streams.audio[0]
        self._time_base = Fraction(self._in_stream.time_base)
        self._out = output
        self._out_stream = output.add_stream_from_template(self._in_stream)
        self._packets = self._input.demux(self._in_stream)
        self._held: av.Packet | None = None
        self.packets = 0

    def _next(self) -> av.Packet | None:
        if self._held is not None:
            packet, self._held = self._held, None
            return packet
        for packet in self._packets:
            if packet.size:
                return packet
        return None

    def mux_until(self, t: Fraction | None) -> None:
        """Mux every packet that starts before ``t`` seconds (all remaining if None)."""
        while (packet := self._next()) is not None:
            stamp = packet.pts if packet.pts is not None else packet.dts
            if t is not None and stamp is not None and stamp * self._time_base > t:
                self._held = packet
                return
            packet.stream = self._out_stream
            try:
                self._out.mux(packet)
            except av.error.FFmpegError as exc:
                codec = self._in_stream.codec_context.name
                raise UnsupportedFormatError(
                    f"audio codec {codec} cannot be stored in {self._out.format.name} "
                    f"output ({exc}); write .mkv instead or pass --no-audio"
                ) from None
            self.packets += 1

    def close(self) -> None:
        self._input.close()
