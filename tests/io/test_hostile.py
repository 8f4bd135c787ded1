"""Headers that claim absurd sizes are refused before any pixel is decoded, in one line."""

import struct
import zlib

import pytest

from kinema.cli import main
from kinema.io.probe import probe
from kinema.types import MAX_FRAME_PIXELS, BadInputError
from tests.cli.test_main import one_error_line
from tests.media import make_gif, make_png_sequence


def _png_claiming(path, width, height):
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)  # a valid chunk, a lying size
    path.write_bytes(bytes(data))


def _gif_claiming(path, width, height):
    data = bytearray(path.read_bytes())
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [(65535, 65535), (32768, 8192), (8192, 32768)])
def test_a_png_claiming_a_huge_size_is_refused(tmp_path, capsys, size):
    folder = make_png_sequence(tmp_path / "seq", 2)
    _png_claiming(folder / "img_1.png", *size)
    with pytest.raises(BadInputError, match="over kinema's limit"):
        probe(folder)
    assert main(["info", str(folder)]) == 1
    assert "megapixels" in one_error_line(capsys.readouterr().err)


def test_a_gif_claiming_65535_squared_is_refused(tmp_path, capsys):
    gif = make_gif(tmp_path / "a.gif", [100, 100])
    _gif_claiming(gif, 65535, 65535)
    with pytest.raises(BadInputError):
        probe(gif)
    assert main(["info", str(gif)]) == 1
    one_error_line(capsys.readouterr().err)


def test_the_limit_allows_8k_and_its_4_to_1_shapes():
    assert 7680 * 4320 <= MAX_FRAME_PIXELS and 8192 * 2048 <= MAX_FRAME_PIXELS and 16384 * 4097 > MAX_FRAME_PIXELS
