"""``.kvc`` files: a video coded by kinema's learned codec.

Layout (all integers little-endian)::

    magic    8 bytes   b"KVC\\x00\\r\\n\\x1a\\n" (a line-ending or 7-bit transfer that mangled
                       the file shows up here, as in PNG's signature)
    version  uint16    FORMAT_VERSION
    length   uint32    bytes of the header
    header   JSON      UTF-8 (:class:`StreamHeader`)
    crc      uint32    CRC-32 of the header bytes
    packets            one per frame, in decoding order:
                       kind uint8 (0 = I, 1 = P), pts int64 and duration uint32
                       (ticks of the header's time base), length uint32,
                       crc uint32 (CRC-32 of kind, pts, duration and payload), payload
    index              uint64 byte offset of every I-packet (one per GOP)
    trailer  20 bytes  frames uint32, index offset uint64, crc uint32 (of the index), b"KVCE"

Packets are written as frames arrive (memory stays flat in video length); the trailer's
index lets a reader start at any GOP. A damaged packet is found by its CRC and reported
with the number of frames read before it (:class:`DamagedStreamError`), so a reader can
keep what came before and say where the damage is; nothing after it is trusted.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from kinema.io.atomic import AtomicOutput, check_output
from kinema.types import BadInputError

MAGIC = b"KVC\x00\r\n\x1a\n"
FORMAT_VERSION = 1
SUFFIX = ".kvc"
INTRA, INTER = 0, 1
_PREFIX = struct.Struct("<8sHI")
_PACKET = struct.Struct("<BqIII")
_TRAILER = struct.Struct("<IQI4s")
_END = b"KVCE"


class DamagedStreamError(BadInputError):
    """A packet is truncated or fails its checksum; ``frames`` packets before it were sound."""

    def __init__(self, message: str, frames: int):
        super().__init__(message)
        self.frames = frames


@dataclass(frozen=True)
class StreamHeader:
    width: int
    height: int
    #: Frames per group of pictures (an I-frame and its P-frames).
    gop: int
    #: Quality level, 1 … the model's level count.
    level: int
    #: Digest of the decoder's tensors (:func:`kinema.engines.codec_stream.decoder_digest`).
    model: str
    time_base: Fraction
    rate: Fraction | None
    #: Whether the frame rate is constant (else the packets' timestamps are the timing).
    constant_rate: bool = True
    #: What happened to the input's audio ("none" or "dropped").
    audio: str = "none"

    def to_json(self) -> bytes:
        data = asdict(self)
        data["time_base"] = [self.time_base.numerator, self.time_base.denominator]
        data["rate"] = None if self.rate is None else [self.rate.numerator, self.rate.denominator]
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> StreamHeader:
        data = json.loads(raw)
        data["time_base"] = Fraction(*data["time_base"])
        data["rate"] = None if data["rate"] is None else Fraction(*data["rate"])
        return cls(**data)


@dataclass(frozen=True)
class Packet:
    kind: int
    pts: int
    duration: int
    payload: bytes
    #: Its position among the stream's packets (= its frame number).
    number: int


def _packet_crc(kind: int, pts: int, duration: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack("<BqI", kind, pts, duration)))


class KvcWriter:
    """Write a stream packet by packet to a temporary file; :meth:`close` adds the index
    and moves it onto ``path`` (a failure leaves nothing at ``path``)."""

    def __init__(self, path: Path, header: StreamHeader, *, overwrite: bool = False, inputs: tuple[Path, ...] = ()):
        path = Path(path)
        if path.suffix != SUFFIX:
            raise BadInputError(f"{path}: a coded video is written as {SUFFIX}")
        check_output(path, overwrite=overwrite, inputs=inputs)
        self._out = AtomicOutput(path, overwrite=overwrite)
        self._file = self._out.path.open("wb")
        head = header.to_json()
        self._file.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head)) + head + struct.pack("<I", zlib.crc32(head)))
        self._index: list[int] = []
        self.frames = 0

    def write(self, kind: int, pts: int, duration: int, payload: bytes) -> None:
        if kind == INTRA:
            self._index.append(self._file.tell())
        elif not self._index:
            raise ValueError("a stream starts with an I-frame")
        self._file.write(_PACKET.pack(kind, pts, duration, len(payload), _packet_crc(kind, pts, duration, payload)) + payload)
        self.frames += 1

    def close(self) -> Path:
        index = struct.pack(f"<{len(self._index)}Q", *self._index)
        where = self._file.tell()
        self._file.write(index + _TRAILER.pack(self.frames, where, zlib.crc32(index), _END))
        self._file.close()
        return self._out.commit()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._out.discard()

    def __enter__(self) -> KvcWriter:
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            self.close()
        else:
            self.discard()


class KvcReader:
    """A ``.kvc`` file's header (read on opening), its GOP index and its packets."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise BadInputError(f"{self.path}: no such file")
        self._file = self.path.open("rb")
        self.size = self.path.stat().st_size
        prefix = self._file.read(_PREFIX.size)
        if len(prefix) < _PREFIX.size or prefix[:8] != MAGIC:
            raise BadInputError(f"{self.path}: not a kinema coded video (.kvc)")
        _, version, length = _PREFIX.unpack(prefix)
        if version > FORMAT_VERSION:
            raise BadInputError(f"{self.path}: .kvc version {version} is newer than this kinema reads ({FORMAT_VERSION})")
        head, crc = self._file.read(length), self._file.read(4)
        if len(head) < length or len(crc) < 4 or struct.unpack("<I", crc)[0] != zlib.crc32(head):
            raise BadInputError(f"{self.path}: damaged header")
        try:
            self.header = StreamHeader.from_json(head)
        except (ValueError, TypeError, KeyError) as exc:
            raise BadInputError(f"{self.path}: unreadable header ({exc})") from None
        self._start = self._file.tell()
        self.frames, self.index = self._trailer()

    def _trailer(self) -> tuple[int | None, list[int] | None]:
        """``(frame count, I-packet offsets)`` from a sound trailer, else ``(None, None)``
        (a truncated file: its packets can still be read up to the damage)."""
        if self.size < self._start + _TRAILER.size:
            return None, None
        self._file.seek(self.size - _TRAILER.size)
        frames, where, crc, end = _TRAILER.unpack(self._file.read(_TRAILER.size))
        count = (self.size - _TRAILER.size - where) // 8 if where <= self.size else -1
        if end != _END or count < 0 or self._start > where:
            return None, None
        self._file.seek(where)
        raw = self._file.read(8 * count)
        if zlib.crc32(raw) != crc:
            return None, None
        return frames, list(struct.unpack(f"<{count}Q", raw))

    def packets(self, *, gop: int = 0) -> Iterator[Packet]:
        """Packets from the start of GOP ``gop`` (0-based; needs the index) to the end.

        Raises :class:`DamagedStreamError` at the first truncated or corrupt packet."""
        if gop:
            if self.index is None:
                raise BadInputError(f"{self.path}: no GOP index (truncated file?): decode from the start")
            if gop >= len(self.index):
                raise BadInputError(f"{self.path}: has {len(self.index)} GOPs, not {gop + 1}")
        offset = self.index[gop] if gop else self._start
        number = gop * self.header.gop
        end = self.size - _TRAILER.size - 8 * len(self.index) if self.index is not None else self.size
        self._file.seek(offset)
        while offset < end and (self.frames is None or number < self.frames):
            raw = self._file.read(_PACKET.size)
            if len(raw) < _PACKET.size:
                raise DamagedStreamError(f"{self.path}: truncated at frame {number + 1}", number)
            kind, pts, duration, length, crc = _PACKET.unpack(raw)
            payload = self._file.read(length) if offset + _PACKET.size + length <= end else b""
            if len(payload) < length or kind not in (INTRA, INTER) or _packet_crc(kind, pts, duration, payload) != crc:
                raise DamagedStreamError(f"{self.path}: damaged at frame {number + 1}", number)
            yield Packet(kind, pts, duration, payload, number)
            number += 1
            offset += _PACKET.size + length
        if self.frames is None:
            raise DamagedStreamError(f"{self.path}: truncated after frame {number} (no end marker)", number)

    def summary(self) -> dict:
        """What ``kinema info`` shows: the header and the index (nothing is decoded)."""
        head = self.header
        return {
            "path": str(self.path), "kind": "kvc", "width": head.width, "height": head.height, "frames": self.frames,
            "gops": None if self.index is None else len(self.index), "gop": head.gop, "level": head.level,
            "rate": None if head.rate is None else str(head.rate), "model": head.model, "bytes": self.size,
            "audio": head.audio, "complete": self.index is not None,
        }  # fmt: skip

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> KvcReader:
        return self

    def __exit__(self, *_):
        self.close()
