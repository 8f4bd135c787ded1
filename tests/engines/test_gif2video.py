import pytest
import torch

from kinema.engines.gif2video import GifRestorer, count_colors
from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet, GifKind
from kinema.types import BadInputError


def _restorer(levels=(32, 128), dithered_levels=(64,), classifier=True):
    models = [CCDNet(CCDNetConfig.tiny(colors=c)) for c in levels]
    models += [CCDNet(CCDNetConfig.tiny(colors=c, dithered=True)) for c in dithered_levels]
    return GifRestorer(models, DitherNet(DitherConfig.tiny()) if classifier else None)


@pytest.mark.parametrize(("colors", "level"), [(2, 32), (40, 32), (64, 32), (65, 128), (100, 128), (256, 128)])
def test_nearest_palette_level_on_a_log_scale(colors, level):
    assert _restorer().pick(False, colors).config.colors == level


def test_kind_without_models_falls_back_to_the_other_kind():
    r = _restorer(dithered_levels=())
    assert not r.pick(True, 32).config.dithered
    assert r.pick(False, 200).config.colors == 128


def test_no_classifier_is_undecided_and_an_undecided_gif_is_kept_as_it_is():
    r = _restorer(classifier=False)
    assert r.kind_probabilities([torch.rand(3, 8, 8)]) == pytest.approx((1 / 3,) * 3)
    plan = r.plan([torch.rand(3, 8, 8)], 32)
    assert plan.model is None and "kept as it is" in plan.describe()
    frame = torch.rand(3, 8, 8)
    assert r.restore_planned(frame, plan) is frame


def _sure_of(kind: GifKind) -> DitherNet:
    """A three-class classifier that always answers ``kind``."""
    net = DitherNet(DitherConfig.tiny(classes=3))
    with torch.no_grad():
        last = net.body[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([10.0 if k is kind else 0.0 for k in GifKind]))
    return net.eval()


@pytest.mark.parametrize(
    ("kind", "dithered", "margin", "means"), [(GifKind.NONE, False, 0.0, None), (GifKind.DIFFUSION, True, None, 0.7), (GifKind.ORDERED, True, 16.0, 1.0)]
)
def test_each_kind_gets_its_model_and_consistency_step(kind, dithered, margin, means):
    r = GifRestorer([CCDNet(CCDNetConfig.tiny(colors=32, dithered=d)) for d in (False, True)], _sure_of(kind))
    plan = r.plan([torch.rand(3, 8, 8)], 32)
    assert plan.kind is kind and plan.model.config.dithered == dithered and plan.margin == margin and plan.means == means
    assert ("local means from the GIF" in plan.describe()) == (means is not None)
    assert plan.probabilities[kind] > 0.99
    # The caller may name the kind instead.
    assert r.plan([], 32, kind=GifKind.NONE).model.config.dithered is False


def test_a_one_logit_classifier_still_routes():
    net = DitherNet(DitherConfig.tiny())
    with torch.no_grad():
        net.body[-1].weight.zero_()
        net.body[-1].bias.fill_(5.0)
    r = GifRestorer([CCDNet(CCDNetConfig.tiny(colors=32, dithered=d)) for d in (False, True)], net.eval())
    assert r.plan([torch.rand(3, 8, 8)], 32).kind is GifKind.DIFFUSION
    assert r.dither_probability([torch.rand(3, 8, 8)]) > 0.99


def test_restore_keeps_the_frame_size_and_counts_colours():
    r = _restorer()
    frame = torch.rand(3, 19, 23)
    out = r.restore(frame, r.pick(False, 32))
    assert out.shape == frame.shape
    assert torch.allclose(out, frame)  # untrained: the identity
    assert count_colors(torch.zeros(3, 4, 4)) == 1


def test_folder_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(BadInputError, match="no GIF restoration weights"):
        GifRestorer.from_folder(tmp_path)


def test_folder_loading(tmp_path):
    CCDNet(CCDNetConfig.tiny(colors=64)).save(tmp_path / "gif-flat-64.safetensors")
    DitherNet(DitherConfig.tiny()).save(tmp_path / "dither.safetensors")
    r = GifRestorer.from_folder(tmp_path)
    assert r.levels(False) == [64] and r.classifier is not None


@pytest.mark.parametrize("dither", [False, True])
def test_the_shipped_models_do_not_make_a_gif_of_smooth_frames_worse(dither):
    """A GIF made from known frames, restored as gif2video restores it (classifier, model,
    consistency step), is at least as close to those frames as the GIF itself."""
    from kinema.io.pixels import from_hwc
    from kinema.ops.color import quantize_gif
    from kinema.ops.metrics import psnr
    from tests.media import smooth

    restorer = GifRestorer.from_folder()
    sources = [smooth(i, 48, 64) for i in range(3)]
    gifs = []
    for rgb in sources:
        indices, palette = quantize_gif(rgb, 32, dither=dither)
        gifs.append(from_hwc(palette[indices])[0])
    colors = max(count_colors(g) for g in gifs)
    true_kind = GifKind.DIFFUSION if dither else GifKind.NONE
    for plan in (restorer.plan(gifs, colors), restorer.plan(gifs, colors, kind=true_kind)):  # as routed, and the true kind
        for gif, rgb in zip(gifs, sources):
            truth = from_hwc(rgb)[0][None]
            assert float(psnr(restorer.restore_planned(gif, plan)[None], truth)[0]) >= float(psnr(gif[None], truth)[0])


def test_strength_goes_that_share_of_the_way_and_never_leaves_the_cell():
    """With strength s a flat GIF's output is GIF + s·(consistent restoration − GIF): each
    pixel still in its GIF colour's cell (the cell is convex and holds the GIF colour)."""
    from kinema.engines.gif2video import Plan
    from kinema.ops.color import project_to_cells, quantize_gif, stack_palettes
    from tests.media import smooth

    source = smooth(2, 32, 40)
    indices, palette = quantize_gif(source, 16, dither=False)
    gif = torch.from_numpy(palette[indices]).permute(2, 0, 1).float() / 255
    guess = (gif + 0.1 * torch.randn(gif.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    r = _restorer()
    full = project_to_cells(guess[None], gif[None], stack_palettes([palette]))[0]
    assert not torch.allclose(full, gif, atol=1e-3)
    for strength in (1.0, 0.6):
        plan = Plan(GifKind.NONE, None, r.pick(False, 16), 0.0, strength)
        out = r.consistent(guess, gif, palette, plan.margin, strength)
        assert torch.allclose(out, gif + strength * (full - gif), atol=1e-6)
        x = out.permute(1, 2, 0).reshape(-1, 3).double() * 255
        own = gif.permute(1, 2, 0).reshape(-1, 3).double() * 255
        assert bool(((x - own).norm(dim=1) <= torch.cdist(x, torch.from_numpy(palette).double()).min(1).values + 1e-3).all())
    assert "60 % of the way from the GIF" in plan.describe()


def test_strength_comes_from_the_kind_unless_given_and_must_be_a_share():
    from kinema.engines.gif2video import STRENGTH

    r = GifRestorer([CCDNet(CCDNetConfig.tiny(colors=32, dithered=d)) for d in (False, True)], _sure_of(GifKind.ORDERED))
    assert r.plan([torch.rand(3, 8, 8)], 32).strength == STRENGTH[GifKind.ORDERED] < 1
    assert r.plan([torch.rand(3, 8, 8)], 32, strength=0.5).strength == 0.5
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="strength"):
            r.plan([], 32, kind=GifKind.NONE, strength=bad)


def test_the_flat_strength_trusts_a_move_that_keeps_to_the_cells_and_not_one_that_leaves_them():
    """Per frame (the flat kind's default): a restoration that moves each pixel a little
    inside its cell goes most of the way; one that shifts every colour out of its cell
    (it contradicts the GIF: it does not know this content) gets the floor."""
    from kinema.engines.gif2video import FLAT_FLOOR, cell_signs, flat_strength
    from kinema.ops.color import project_to_cells, quantize_gif, stack_palettes
    from tests.media import smooth

    source = smooth(3, 48, 64)
    indices, palette = quantize_gif(source, 32, dither=False)
    gif = torch.from_numpy(palette[indices]).permute(2, 0, 1).float() / 255
    truth = torch.from_numpy(source).permute(2, 0, 1).float() / 255
    # Part of the way to the truth: inside every cell, small against the cells.
    modest = gif + 0.3 * (truth - gif)
    assert torch.allclose(project_to_cells(modest[None], gif[None], stack_palettes([palette]))[0], modest, atol=1e-5)
    trusted = flat_strength(cell_signs(gif, modest))
    doubted = flat_strength(cell_signs(gif, (gif + 0.1).clamp(0, 1)))
    assert trusted > 0.8 and doubted == FLAT_FLOOR
    # The pipeline path uses it: a plan of the flat kind sets the strength per frame.
    r = _restorer()
    plan = r.plan([], 32, kind=GifKind.NONE)
    assert plan.strength is None and "set per frame" in plan.describe()
    heard: list[float] = []
    list(r.restore_frames([gif, gif], plan, temporal=1, on_strength=heard.append))
    assert len(heard) == 2 and all(FLAT_FLOOR <= s <= 1 for s in heard)


def test_dithered_output_keeps_the_gif_local_means_and_then_its_widened_cells():
    """The soft step comes before the cells: an ordered-dithered frame's output keeps its
    local means from the GIF (a colour cast of the network is gone) and every pixel still
    lies in its GIF colour's widened cell."""
    from kinema.ops.color import keep_local_means, project_to_cells, quantize_gif, stack_palettes
    from tests.media import smooth

    source = smooth(4, 32, 40)
    indices, palette = quantize_gif(source, 16, dither=True)
    gif = torch.from_numpy(palette[indices]).permute(2, 0, 1).float() / 255
    cast = (torch.from_numpy(source).permute(2, 0, 1).float() / 255 + 0.05).clamp(0, 1)
    r = _restorer()
    out = r.consistent(cast, gif, palette, 16.0, 1.0, 1.0)
    assert not torch.allclose(out, cast, atol=1e-3)
    soft = keep_local_means(cast[None], gif[None], 1.0)
    assert torch.equal(out, project_to_cells(soft, gif[None], stack_palettes([palette]), margin=16.0)[0])
    assert float((out - gif).mean().abs()) < 0.2 * float((cast - gif).mean().abs())
