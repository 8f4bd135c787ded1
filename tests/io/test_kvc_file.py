"""The .kvc container: packets and timing come back as written; damage is found and placed."""

from fractions import Fraction

import pytest

from kinema.io.kvc_file import INTER, INTRA, DamagedStreamError, KvcReader, KvcWriter, StreamHeader
from kinema.types import BadInputError, OutputExistsError

HEADER = StreamHeader(width=33, height=17, gop=2, level=1, model="abc", time_base=Fraction(1, 90000), rate=Fraction(30000, 1001))
PACKETS = [(INTRA, 0, 3003, b"\x01\x02\x03\x04" * 5), (INTER, 3003, 3003, b"\x05" * 8), (INTRA, 6006, 3003, b"\x06" * 12), (INTER, 9009, 4000, b"")]


def written(tmp_path):
    path = tmp_path / "a.kvc"
    with KvcWriter(path, HEADER) as writer:
        for packet in PACKETS:
            writer.write(*packet)
    return path


def test_header_packets_timing_and_index_round_trip(tmp_path):
    with KvcReader(written(tmp_path)) as reader:
        assert reader.header == HEADER and reader.frames == 4 and len(reader.index) == 2
        got = [(p.kind, p.pts, p.duration, p.payload) for p in reader.packets()]
        assert got == PACKETS
        # Seeking by GOP starts at the second I-frame and numbers frames from there.
        assert [(p.number, p.pts) for p in reader.packets(gop=1)] == [(2, 6006), (3, 9009)]
        assert reader.summary()["gops"] == 2 and reader.summary()["complete"]


def test_a_flipped_bit_or_a_cut_is_placed_at_its_frame(tmp_path):
    blob = bytearray(written(tmp_path).read_bytes())
    second = blob.index(b"\x05" * 8)
    blob[second + 3] ^= 0x01
    (tmp_path / "flip.kvc").write_bytes(blob)
    with KvcReader(tmp_path / "flip.kvc") as reader:
        packets = reader.packets()
        assert next(packets).number == 0
        with pytest.raises(DamagedStreamError, match="damaged at frame 2") as caught:
            next(packets)
        assert caught.value.frames == 1
    whole = (tmp_path / "a.kvc").read_bytes()
    (tmp_path / "cut.kvc").write_bytes(whole[: second + 4])
    with KvcReader(tmp_path / "cut.kvc") as reader:
        assert reader.index is None and reader.summary()["complete"] is False
        with pytest.raises(DamagedStreamError, match="frame 2") as caught:
            list(reader.packets())
        assert caught.value.frames == 1
        with pytest.raises(BadInputError, match="no GOP index"):
            list(reader.packets(gop=1))


def test_foreign_newer_and_damaged_headers_are_refused_and_outputs_are_guarded(tmp_path):
    path = written(tmp_path)
    blob = path.read_bytes()
    cases = {b"not a stream at all": "not a kinema coded video", blob[:8] + b"\x09\x00" + blob[10:]: "newer", blob[:20] + b"X" + blob[21:]: "damaged header"}
    for i, (data, message) in enumerate(cases.items()):
        (tmp_path / f"{i}.kvc").write_bytes(data)
        with pytest.raises(BadInputError, match=message):
            KvcReader(tmp_path / f"{i}.kvc")
    with pytest.raises(OutputExistsError):
        KvcWriter(path, HEADER)
    with pytest.raises(BadInputError, match=".kvc"):
        KvcWriter(tmp_path / "a.mp4", HEADER)
    # A writer that fails leaves nothing behind.
    with pytest.raises(RuntimeError), KvcWriter(tmp_path / "b.kvc", HEADER) as writer:
        writer.write(*PACKETS[0])
        raise RuntimeError("boom")
    assert not (tmp_path / "b.kvc").exists() and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
