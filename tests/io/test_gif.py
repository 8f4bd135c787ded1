from fractions import Fraction

import pytest
import torch

from kinema.io import GifOptions, GifReader, GifWriter
from kinema.io.gif import probe_gif
from kinema.types import BadInputError, Frame
from tests.media import make_gif


def test_probe_reads_delays_loop_and_transparency(tmp_path):
    info = probe_gif(make_gif(tmp_path / "a.gif", [50, 120, 30], loop=3, transparent=True))
    assert info.frame_count == 3
    assert info.duration == Fraction(200, 1000) and info.vfr
    assert info.loop == 3 and info.has_alpha


def test_gif_without_loop_extension_plays_once(tmp_path):
    assert probe_gif(make_gif(tmp_path / "a.gif", [100, 100], loop=None)).loop == -1


def test_tiny_delays_follow_browser_convention(tmp_path):
    frames = list(GifReader(make_gif(tmp_path / "a.gif", [0, 10, 20])))
    assert [f.duration for f in frames] == [Fraction(1, 10), Fraction(1, 10), Fraction(1, 50)]


def test_rgba_gif_reads_alpha_plane(tmp_path):
    frame = next(iter(GifReader(make_gif(tmp_path / "a.gif", [100], transparent=True))))
    assert frame.alpha is not None and frame.alpha.shape == (1, 24, 32)
    assert frame.alpha[0, :12, :16].max() == 0 and frame.alpha[0, 12:, 16:].min() == 1


def _solid(i, n=4, value=0.25):
    image = torch.full((3, 10, 12), value + 0.1 * i)
    return Frame(image=image, pts=Fraction(i, n), duration=Fraction(1, n), index=i)


def test_writer_keeps_cumulative_timing_in_centiseconds(tmp_path):
    path = tmp_path / "o.gif"
    with GifWriter(path, loop=2) as w:
        for i in range(6):  # 1/3 s frames: 33.3 cs each, boundaries rounded on the timeline
            w.write(Frame(image=torch.full((3, 4, 4), i / 6), pts=Fraction(i, 3), duration=Fraction(1, 3), index=i))
    frames = list(GifReader(path))
    assert [int(f.duration * 1000) for f in frames] == [330, 340, 330, 330, 340, 330]
    assert sum(f.duration for f in frames) == 2
    assert probe_gif(path).loop == 2


def test_writer_drops_frames_too_short_to_show(tmp_path):
    path = tmp_path / "o.gif"
    with GifWriter(path) as w:  # 100 fps in: viewers cannot show 10 ms frames
        for i in range(10):
            w.write(Frame(image=torch.full((3, 4, 4), i / 10), pts=Fraction(i, 100), duration=Fraction(1, 100), index=i))
    assert w.dropped == 5
    info = probe_gif(path)
    assert info.frame_count == 5 and info.duration == Fraction(1, 10)


def test_palette_size_and_dither_option(tmp_path):
    ramp = torch.linspace(0, 1, 64).repeat(3, 16, 1)
    counts = {}
    for dither in (False, True):
        path = tmp_path / f"d{dither}.gif"
        with GifWriter(path, options=GifOptions(colors=8, dither=dither)) as w:
            w.write(Frame(image=ramp, pts=Fraction(0), duration=Fraction(1, 10)))
        image = next(iter(GifReader(path))).image
        counts[dither] = len(torch.unique(image.reshape(3, -1), dim=1).T)
        assert counts[dither] <= 8
        # Dithering spreads the error: neighbouring pixels differ far more often.
        counts[f"changes{dither}"] = int((image[:, :, 1:] != image[:, :, :-1]).sum())
    assert counts["changesTrue"] > 2 * counts["changesFalse"]


def test_transparency_survives_gif_to_gif(tmp_path):
    src = make_gif(tmp_path / "a.gif", [100, 100], transparent=True)
    out = tmp_path / "b.gif"
    with GifWriter(out) as w:
        for f in GifReader(src):
            w.write(f)
    for a, b in zip(GifReader(src), GifReader(out)):
        assert torch.equal(a.alpha, b.alpha)


def test_truncated_gif_is_refused(tmp_path):
    data = make_gif(tmp_path / "a.gif", [100] * 6).read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="truncated"):
        probe_gif(cut)


def test_not_a_gif(tmp_path):
    path = tmp_path / "x.gif"
    path.write_bytes(b"hello")
    with pytest.raises(BadInputError):
        probe_gif(path)
