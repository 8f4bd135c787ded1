from fractions import Fraction

import pytest
import torch

from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.gif2video import GifRestorer
from kinema.io import GifReader, open_reader
from kinema.types import CutMode
from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet, GifKind
from kinema.pipelines.gif2video import Gif2VideoConfig, gif2video
from kinema.types import BadInputError
from tests.media import make_gif

ENGINE = ClassicalEngine(ClassicalConfig.fast())


def _brightening(dithered: bool = False, shift: float = 0.1) -> CCDNet:
    """A model whose first step adds ``shift`` everywhere: its output is easy to recognise."""
    net = CCDNet(CCDNetConfig.tiny(dithered=dithered))
    with torch.no_grad():
        net.first.tail.bias.fill_(shift)
    return net.eval()


@pytest.fixture
def restorer():
    return GifRestorer([_brightening(False, 0.1), _brightening(True, 0.2)], DitherNet(DitherConfig.tiny()))


def _frames(path):
    return list(open_reader(path, fps=None))


def test_restored_frames_keep_gif_timing(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 200, 100, 300], size=(24, 32))
    out = tmp_path / "out"
    # All the way to the restoration (the default strength of this test model, whose move
    # leaves the cells, would be the floor: tests/engines/test_gif2video.py).
    result = gif2video(gif, out, Gif2VideoConfig(kind=GifKind.NONE, strength=1.0), restorer=restorer, engine=ENGINE)
    frames = _frames(out)
    source = list(GifReader(gif))
    assert [f.pts for f in frames] == [f.pts for f in source]
    assert [f.duration for f in frames] == [Fraction(d, 1000) for d in (100, 200, 100, 300)]
    # What is written is the restored frame, not the GIF: the test model adds 0.1, and the
    # consistency step takes back what would leave each pixel's palette cell.
    shift = frames[0].image - source[0].image
    free = restorer.restore(source[0].image, restorer.pick(False, 32), consistent=False) - source[0].image
    assert float(free.mean()) > 0.09 and float(shift.mean()) > 0.03
    # The GIF's own colour is in its cell, so the step never moves a pixel away from it.
    assert bool((shift.norm(dim=0) <= free.norm(dim=0) + 1 / 255).all())
    assert result.level == 32 and result.plan.kind is GifKind.NONE and result.plan.probabilities is None
    assert result.strengths == (1.0, 1.0)
    # By default the flat kind's strength is set per frame: this model's move leaves the
    # cells everywhere, so every frame gets the least.
    from kinema.engines.gif2video import FLAT_FLOOR

    default = gif2video(gif, tmp_path / "default", Gif2VideoConfig(kind=GifKind.NONE), restorer=restorer, engine=ENGINE)
    assert default.plan.strength is None and default.strengths == (FLAT_FLOOR, FLAT_FLOOR)


def test_forced_dither_uses_the_dithered_model(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 100])
    result = gif2video(gif, tmp_path / "out", Gif2VideoConfig(kind=GifKind.DIFFUSION), restorer=restorer, engine=ENGINE)
    assert result.plan.model.config.dithered and result.plan.margin is None and result.plan.means is not None
    # The dithered model's +0.2 everywhere is all low frequency: the local means taken from
    # the GIF remove it (the plain GIF colours come back, not the flat model's +0.1).
    # (Where +0.2 clipped at white it is not quite uniform: a mean, not a maximum.)
    shift = float((_frames(tmp_path / "out")[0].image - next(iter(GifReader(gif))).image).abs().mean())
    assert shift < 0.02


def test_factor_interpolates_restored_frames_and_a_loop_wraps_to_the_first(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 100, 100], loop=0)
    out = tmp_path / "x2"
    # (The synthetic frames change a lot: scene-cut detection would hold across the seam.)
    result = gif2video(gif, out, Gif2VideoConfig(factor=2, scene_cuts=CutMode.OFF), restorer=restorer, engine=ENGINE)
    frames = _frames(out)
    assert len(frames) == 6 and result.retimed.frames_out == 6
    assert frames[-1].pts == Fraction(25, 100) and frames[-1].end == Fraction(3, 10)
    assert result.plan.probabilities is not None
    restored = [f.image for f in _frames(out)[::2]]
    # The last in-between frame leads back into the first (looping GIF): not a hold.
    assert not torch.allclose(frames[-1].image, restored[-1], atol=2 / 255)


def test_gif_that_plays_once_holds_its_last_frame(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 100, 100], loop=None)
    out = tmp_path / "x2"
    gif2video(gif, out, Gif2VideoConfig(factor=2, scene_cuts=CutMode.OFF), restorer=restorer, engine=ENGINE)
    frames = _frames(out)
    assert torch.equal(frames[-1].image, frames[-2].image)


def test_loop_plays_the_animation_several_times(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 200, 100])
    out = tmp_path / "out.mp4"
    result = gif2video(gif, out, Gif2VideoConfig(fps=Fraction(20), loop=3), restorer=restorer, engine=ENGINE)
    assert result.retimed.frames_out == 24  # 3 × 0.4 s at 20 fps
    assert len(_frames(out)) == 24


def test_transparency_is_kept_in_png_and_flattened_in_h264(tmp_path, restorer):
    gif = make_gif(tmp_path / "in.gif", [100, 100], transparent=True)
    gif2video(gif, tmp_path / "png", Gif2VideoConfig(), restorer=restorer, engine=ENGINE)
    frames = _frames(tmp_path / "png")
    assert frames[0].alpha is not None and float(frames[0].alpha[0, 0, 0]) == 0.0
    gif2video(gif, tmp_path / "v.mp4", Gif2VideoConfig(factor=2), restorer=restorer, engine=ENGINE)
    assert len(_frames(tmp_path / "v.mp4")) == 4


def test_no_restore_passes_frames_through(tmp_path):
    gif = make_gif(tmp_path / "in.gif", [100, 100])
    result = gif2video(gif, tmp_path / "out", Gif2VideoConfig(restore=False), restorer=None, engine=ENGINE)
    assert result.level is None
    assert torch.equal(_frames(tmp_path / "out")[0].image, next(iter(GifReader(gif))).image)


def test_bad_inputs_and_options(tmp_path, restorer):
    not_gif = tmp_path / "x.gif"
    not_gif.write_bytes(b"\x89PNG\r\n\x1a\nnonsense")
    with pytest.raises(BadInputError):
        gif2video(not_gif, tmp_path / "o.mp4", Gif2VideoConfig(), restorer=restorer, engine=ENGINE)
    with pytest.raises(ValueError):
        Gif2VideoConfig(factor=2, fps=Fraction(30))
    with pytest.raises(ValueError):
        Gif2VideoConfig(loop=0)


@pytest.mark.parametrize("radius", [1, 2])
def test_temporal_fusion_keeps_every_frame_in_order_and_its_timing(tmp_path, restorer, radius):
    gif = make_gif(tmp_path / "in.gif", [100, 200, 100, 300, 100])
    out = tmp_path / "out"
    gif2video(gif, out, Gif2VideoConfig(kind=GifKind.NONE, temporal=radius), restorer=restorer, engine=ENGINE)
    frames, single = _frames(out), tmp_path / "single"
    gif2video(gif, single, Gif2VideoConfig(kind=GifKind.NONE), restorer=restorer, engine=ENGINE)
    alone = _frames(single)
    assert [f.pts for f in frames] == [f.pts for f in alone] and len(frames) == 5
    # Each fused frame is its own frame (the neighbours of these test frames differ a lot,
    # so they weigh little), not a neighbour's.
    for fused, own in zip(frames, alone):
        assert float((fused.image - own.image).abs().mean()) < 0.02
    with pytest.raises(ValueError):
        Gif2VideoConfig(temporal=-1)
    for bad in (0.0, -0.5, 1.01):
        with pytest.raises(ValueError, match="strength"):
            Gif2VideoConfig(strength=bad)


def test_fusion_averages_aligned_noise_away():
    from kinema.ops.fuse import fuse_neighbours

    g = torch.Generator().manual_seed(0)
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    clean = torch.stack([x, y, 0.5 * (x + y)])
    noisy = [(clean + 0.01 * torch.randn(clean.shape, generator=g)).clamp(0, 1) for _ in range(3)]
    fused = fuse_neighbours(noisy[1], [noisy[0], noisy[2]])
    assert float((fused - clean).square().mean()) < 0.6 * float((noisy[1] - clean).square().mean())
