from fractions import Fraction

import pytest
import torch
from PIL import Image, PngImagePlugin

from kinema.io.snapshot_file import KEY, SnapshotInfo, read_snapshot, write_snapshot
from kinema.types import BadInputError, OutputExistsError, UnsupportedFormatError


def _info(w=24, h=16, **changes):
    base = dict(frames=5, model="snapshot-5", digest="0123abcd", fps="30000/1001", stride=2, starts=(4,), source="a.mp4",
                source_size=(64, 48), size=(w, h), tile=(w, h))  # fmt: skip
    return SnapshotInfo(**{**base, **changes})


def test_png_round_trip_keeps_pixels_and_metadata(tmp_path):
    image = torch.rand(3, 16, 24)
    path = write_snapshot(tmp_path / "s.png", image, _info())
    back, info = read_snapshot(path)
    assert torch.equal(back, (image * 255).round() / 255)
    assert info == _info() and info.rate == Fraction(30000, 1001) and info.count == 1
    assert not list(tmp_path.glob(".*part*"))
    with pytest.raises(OutputExistsError):
        write_snapshot(path, image, _info())


def test_jpeg_keeps_metadata_in_its_comment(tmp_path):
    path = write_snapshot(tmp_path / "s.jpg", torch.rand(3, 16, 24), _info(), quality=90)
    assert read_snapshot(path)[1] == _info()


def test_clear_errors_for_pictures_that_are_not_snapshots(tmp_path):
    Image.new("RGB", (24, 16)).save(tmp_path / "plain.png")
    with pytest.raises(BadInputError, match="no kinema snapshot metadata"):
        read_snapshot(tmp_path / "plain.png")
    write_snapshot(tmp_path / "s.png", torch.rand(3, 16, 24), _info())
    with Image.open(tmp_path / "s.png") as picture:
        text = PngImagePlugin.PngInfo()
        text.add_itxt(KEY, picture.info[KEY])
        picture.resize((12, 8)).save(tmp_path / "small.png", pnginfo=text)
        picture.convert("P").save(tmp_path / "pal.png", pnginfo=text)
    with pytest.raises(BadInputError, match="resized from 24x16 to 12x8"):
        read_snapshot(tmp_path / "small.png")
    with pytest.raises(BadInputError, match="mode P"):
        read_snapshot(tmp_path / "pal.png")
    (tmp_path / "trunc.png").write_bytes((tmp_path / "s.png").read_bytes()[:60])
    with pytest.raises(BadInputError):
        read_snapshot(tmp_path / "trunc.png")
    with pytest.raises(UnsupportedFormatError):
        write_snapshot(tmp_path / "s.bmp", torch.rand(3, 4, 4), _info(4, 4))
