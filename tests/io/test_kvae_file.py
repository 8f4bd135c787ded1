"""The .kvae container: what is read back is what was written, or a clear refusal."""

import hashlib
import struct

import pytest

from kinema.io.kvae_file import FORMAT_VERSION, MAGIC, read_kvae, write_kvae
from kinema.types import BadInputError, OutputExistsError

SECTIONS = {"frames": b"\x00\x01" * 500, "weights": bytes(range(256)) * 8}


def written(tmp_path):
    path = tmp_path / "a.kvae"
    size = write_kvae(path, {"content": "test", "n": 3}, SECTIONS)
    assert size == path.stat().st_size
    return path


def test_round_trip_keeps_header_and_sections(tmp_path):
    contents = read_kvae(written(tmp_path))
    assert contents.header["content"] == "test" and contents.header["n"] == 3
    assert contents.sections == SECTIONS and list(contents.sections) == ["frames", "weights"]


def test_truncation_at_any_point_says_truncated(tmp_path):
    blob = written(tmp_path).read_bytes()
    for cut in (3, 20, len(blob) // 2, len(blob) - 1):
        (tmp_path / "t.kvae").write_bytes(blob[:cut])
        with pytest.raises(BadInputError, match="truncated"):
            read_kvae(tmp_path / "t.kvae")


def test_damage_foreign_files_and_newer_versions_are_refused(tmp_path):
    blob = bytearray(written(tmp_path).read_bytes())
    flipped = bytearray(blob)
    flipped[-100] ^= 0x10
    cases = {
        bytes(flipped): "checksum mismatch",
        bytes(blob) + b"extra": "damaged",
        b"GIF89a" + bytes(200): "not a kinema packed video",
        b"": "not a kinema packed video",
    }
    newer = bytearray(blob)
    newer[8:10] = struct.pack("<H", FORMAT_VERSION + 1)
    newer[-32:] = hashlib.sha256(bytes(newer[:-32])).digest()
    cases[bytes(newer)] = "newer than this kinema reads"
    header_damage = bytearray(blob)
    header_damage[len(MAGIC) + 8] ^= 0xFF  # inside the JSON: the declared lengths are unreadable
    cases[bytes(header_damage)] = "checksum mismatch"
    for data, message in cases.items():
        (tmp_path / "x.kvae").write_bytes(data)
        with pytest.raises(BadInputError, match=message):
            read_kvae(tmp_path / "x.kvae")
    with pytest.raises(BadInputError, match="no such file"):
        read_kvae(tmp_path / "missing.kvae")


def test_writing_wants_the_suffix_and_never_replaces_without_overwrite(tmp_path):
    with pytest.raises(BadInputError, match="written as .kvae"):
        write_kvae(tmp_path / "a.mp4", {}, SECTIONS)
    path = written(tmp_path)
    with pytest.raises(OutputExistsError):
        write_kvae(path, {}, {})
    write_kvae(path, {"content": "new"}, {}, overwrite=True)
    assert read_kvae(path).header["content"] == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.kvae"]  # no temporaries left
