from fractions import Fraction

import numpy as np
import pytest
import torch

from kinema.io import ImageOptions, ImageSequenceReader, ImageSequenceWriter
from kinema.io.images import list_frames, probe_images, read_image
from kinema.types import BadInputError, Frame, UnsupportedFormatError
from tests.media import make_png_sequence, pattern


def test_natural_sort_orders_numbers_by_value(tmp_path):
    folder = make_png_sequence(tmp_path / "seq", 12)
    assert [p.name for p in list_frames(folder)][:3] == ["img_1.png", "img_2.png", "img_3.png"]
    assert list_frames(folder)[-1].name == "img_12.png"


def test_glob_pattern_input(tmp_path):
    folder = make_png_sequence(tmp_path / "seq", 4)
    (folder / "notes.txt").write_text("not an image")
    assert probe_images(folder / "img_*.png").frame_count == 4


def test_sixteen_bit_png_keeps_full_precision(tmp_path):
    folder = make_png_sequence(tmp_path / "seq", 2, bit_depth=16)
    info = probe_images(folder)
    assert info.bit_depth == 16
    frame = next(iter(ImageSequenceReader(folder)))
    expected = pattern(0, 20, 30, 3, dtype=np.uint16).astype(np.float32) / 65535
    assert torch.equal(frame.image, torch.from_numpy(expected).permute(2, 0, 1))


def test_assumed_and_given_frame_rate(tmp_path):
    folder = make_png_sequence(tmp_path / "seq", 3)
    assert probe_images(folder).fps == 25
    frames = list(ImageSequenceReader(folder, fps=Fraction(30000, 1001)))
    assert frames[2].pts == 2 * Fraction(1001, 30000)


@pytest.mark.parametrize("depth, channels", [(8, 3), (8, 4), (16, 3), (16, 4)])
def test_write_read_is_lossless_with_exact_timing(tmp_path, depth, channels):
    dtype = np.uint8 if depth == 8 else np.uint16
    frames = []
    for i in range(3):
        array = pattern(i, 9, 11, channels, dtype=dtype).astype(np.float32) / np.iinfo(dtype).max
        data = torch.from_numpy(array).permute(2, 0, 1)
        pts = Fraction(1001 * i, 30000)
        frames.append(Frame(image=data[:3], alpha=data[3:] if channels == 4 else None, pts=pts, duration=Fraction(1001, 30000), index=i))
    out = tmp_path / "out"
    with ImageSequenceWriter(out, time_base=Fraction(1, 30000), source_bit_depth=depth) as w:
        for f in frames:
            w.write(f)
    back = list(ImageSequenceReader(out))
    assert [f.pts for f in back] == [f.pts for f in frames]
    for a, b in zip(frames, back):
        assert torch.equal(a.image, b.image)
        if channels == 4:
            assert torch.equal(a.alpha, b.alpha)


def test_sidecar_mismatch_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    with ImageSequenceWriter(out, time_base=Fraction(1, 10)) as w:
        for i in range(3):
            w.write(Frame(image=torch.zeros(3, 4, 4), pts=Fraction(i, 10), duration=Fraction(1, 10), index=i))
    (out / "frame_000001.png").unlink()
    with pytest.raises(BadInputError, match="kinema.json"):
        probe_images(out)
    assert probe_images(out, fps=Fraction(10)).frame_count == 2  # --fps ignores the sidecar


def test_size_change_mid_sequence_is_refused(tmp_path):
    folder = make_png_sequence(tmp_path / "seq", 2)
    make_png_sequence(tmp_path / "other", 1, size=(8, 8))
    (tmp_path / "other" / "img_1.png").rename(folder / "img_3.png")
    with pytest.raises(BadInputError, match="img_3.png"):
        list(ImageSequenceReader(folder))


def test_bad_sequences(tmp_path):
    with pytest.raises(BadInputError, match="no such folder"):
        list_frames(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no images"):
        list_frames(tmp_path / "empty")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(BadInputError, match="not a readable image"):
        read_image(broken)


def test_writer_refuses_a_file_name(tmp_path):
    with pytest.raises(UnsupportedFormatError, match="folder"):
        ImageSequenceWriter(tmp_path / "x.png")
    with pytest.raises(UnsupportedFormatError):
        ImageOptions(bit_depth=12).validate()
