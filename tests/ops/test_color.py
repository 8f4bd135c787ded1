import numpy as np
import torch
from PIL import Image

from kinema.io import GifOptions, GifReader, GifWriter
from kinema.io.pixels import from_hwc
from kinema.ops.color import median_cut_palette, palette_of, quantize_gif, requantize, stack_palettes
from kinema.types import Frame
from tests.media import smooth


def _as_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float()[None] / 255


def test_requantizing_the_source_gives_the_gif_exactly():
    rgb = smooth(3, 40, 56)
    indices, palette = quantize_gif(rgb, 16, dither=False)
    gif = palette[indices]
    assert len(palette) <= 16 and len(palette_of(gif)) == len(palette)
    again = requantize(_as_tensor(rgb), stack_palettes([palette]))
    assert torch.equal(again, _as_tensor(gif))
    # Palette colours map to themselves.
    assert torch.equal(requantize(_as_tensor(gif), stack_palettes([palette])), _as_tensor(gif))


def test_each_image_uses_its_own_palette_and_padding_changes_nothing():
    a, b = smooth(0, 16, 16), smooth(5, 16, 16)
    pa, pb = median_cut_palette(a, 4), median_cut_palette(b, 12)
    both = requantize(torch.cat([_as_tensor(a), _as_tensor(b)]), stack_palettes([pa, pb]))
    alone = requantize(_as_tensor(a), stack_palettes([pa]))
    assert torch.equal(both[:1], alone)
    assert len(palette_of((both[0].permute(1, 2, 0) * 255).round().byte().numpy())) <= 4


def test_requantization_matches_a_gif_file_round_trip(tmp_path):
    rgb = smooth(1, 24, 32)
    path = tmp_path / "x.gif"
    writer = GifWriter(path, options=GifOptions(colors=32, dither=False))
    writer.write(Frame(image=from_hwc(rgb)[0], pts=0, duration=0.1, index=0))
    writer.close()
    decoded = next(iter(GifReader(path))).image
    palette = palette_of((decoded.permute(1, 2, 0) * 255).round().byte().numpy())
    again = requantize(_as_tensor(rgb), stack_palettes([palette]))[0]
    # The decoded palette is sorted, not in the file's order, so an exact tie between two
    # colours may resolve to the other one: both are then equally near.
    source = _as_tensor(rgb)[0]
    dist = lambda x: ((x - source) * 255).round().pow(2).sum(0)  # noqa: E731
    assert torch.equal(dist(again), dist(decoded))
    assert (again == decoded).all(0).float().mean() > 0.9


def test_dithering_keeps_local_averages_closer_to_the_source():
    ramp = np.repeat(np.linspace(0, 255, 96)[None, :, None], 48, 0).repeat(3, 2).astype(np.uint8)
    flat_i, palette = quantize_gif(ramp, 4, dither=False)
    dith_i, _ = quantize_gif(ramp, 4, dither=True, palette=palette)
    flat, dith = palette[flat_i].astype(float), palette[dith_i].astype(float)
    assert set(map(tuple, palette_of(palette[dith_i]))) <= set(map(tuple, palette))

    def box(x):  # 8×8 local means
        return x.reshape(6, 8, 12, 8, 3).mean((1, 3))

    assert np.abs(box(dith) - box(ramp.astype(float))).mean() < 0.5 * np.abs(box(flat) - box(ramp.astype(float))).mean()


def test_gif_writer_without_dither_maps_each_pixel_to_its_nearest_colour(tmp_path):
    rgb = np.asarray(Image.fromarray(smooth(2, 30, 30)).resize((60, 60)))
    indices, palette = quantize_gif(rgb, 8, dither=False)
    d = ((rgb[:, :, None, :].astype(int) - palette[None, None].astype(int)) ** 2).sum(-1)
    assert np.array_equal(d.min(-1), d[np.arange(60)[:, None], np.arange(60)[None], indices])


def test_the_consistency_step_puts_every_pixel_in_its_cell_and_none_farther_from_the_truth():
    from kinema.ops.color import project_to_cells

    source = smooth(1, 48, 64)
    for colors in (8, 64):
        indices, palette = quantize_gif(source, colors, dither=False)
        gif = torch.from_numpy(palette[indices]).permute(2, 0, 1).float()[None] / 255
        truth = torch.from_numpy(source).permute(2, 0, 1).float()[None] / 255
        guess = (truth + 0.04 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(colors))).clamp(0, 1)
        palettes = stack_palettes([palette])
        fixed = project_to_cells(guess, gif, palettes)
        # In its cell: no palette colour is nearer than the pixel's own GIF colour (float64, exact).
        x = fixed[0].permute(1, 2, 0).reshape(-1, 3).double() * 255
        own = gif[0].permute(1, 2, 0).reshape(-1, 3).double().mul(255).round()
        nearest = torch.cdist(x, torch.from_numpy(palette).double()).min(1).values
        assert bool(((x - own).norm(dim=1) <= nearest + 1e-3).all())
        assert not bool((requantize(guess, palettes) == gif).all())  # the guess was not consistent
        error = lambda image: (image - truth).pow(2).sum(1).sqrt()  # noqa: E731
        assert bool((error(fixed) <= error(guess) + 1e-6).all())
        assert error(fixed).mean() < error(guess).mean()
        # A restoration already in its cells (the GIF itself, its source) is left as it is.
        assert torch.equal(project_to_cells(gif, gif, palettes), gif)
        assert torch.allclose(project_to_cells(truth, gif, palettes), truth, atol=1e-6)


def test_in_cell_counts_ties_as_inside_and_error_diffusion_breaks_the_constraint():
    from kinema.ops.color import in_cell

    source = smooth(2, 40, 56)
    indices, palette = quantize_gif(source, 16, dither=False)
    assert in_cell(source, palette[indices]).all()
    indices, palette = quantize_gif(source, 16, dither=True)
    assert not in_cell(source, palette[indices]).all()


def test_a_margin_widens_every_cell_by_that_distance_and_no_more():
    from kinema.ops.color import project_to_cells

    source = smooth(3, 32, 40)
    indices, palette = quantize_gif(source, 12, dither=False)
    gif = torch.from_numpy(palette[indices]).permute(2, 0, 1).float()[None] / 255
    guess = (_as_tensor(source) + 0.08 * torch.randn(1, 3, 32, 40, generator=torch.Generator().manual_seed(5))).clamp(0, 1)
    palettes = stack_palettes([palette])
    c = torch.from_numpy(palette).double()
    g = gif[0].permute(1, 2, 0).reshape(-1, 3).double().mul(255).round()

    def outside(image):  # how far each pixel lies beyond its cell's faces (0 inside)
        x = image[0].permute(1, 2, 0).reshape(-1, 3).double() * 255
        gap = (c[None] - g[:, None]).norm(dim=-1)
        d = ((x[:, None] - g[:, None]).pow(2).sum(-1) - (x[:, None] - c[None]).pow(2).sum(-1)) / (2 * gap.clamp_min(1e-9))
        return torch.where(gap > 0, d, torch.full_like(d, -1e9)).max(1).values.clamp_min(0)

    before = outside(guess)
    for margin in (3.0, 12.0):
        fixed = project_to_cells(guess, gif, palettes, margin=margin)
        after = outside(fixed)
        assert float(after.max()) <= margin + 1e-3
        moved = (fixed - guess).abs().amax(1).reshape(-1) > 1e-6
        assert not bool((moved & (before <= margin - 1e-3)).any())  # within the margin: untouched
        assert bool(moved.any())
        # The truth lies in every widened cell, so no pixel got farther from it.
        truth = _as_tensor(source)
        error = lambda image: (image - truth).pow(2).sum(1).sqrt()  # noqa: E731
        assert bool((error(fixed) <= error(guess) + 1e-6).all())


def test_palette_indices_is_the_exact_lookup_nearest_indices_would_give():
    from kinema.ops.color import nearest_indices, palette_indices

    indices, palette = quantize_gif(smooth(4, 24, 32), 16, dither=False)
    frame = palette[indices]
    shown = palette_of(frame)
    assert np.array_equal(palette_indices(frame, shown), nearest_indices(frame, shown))
    assert np.array_equal(shown[palette_indices(frame, shown)], frame)


def test_a_hint_changes_nothing_requantize_picks_only_how_fast():
    """Hints (the GIF) settle pixels near them without the search over the palette; right,
    wrong, tied or not even in the palette, the colours picked are the full search's."""
    generator = torch.Generator().manual_seed(3)
    palette = np.array([[0, 0, 0], [10, 0, 0], [200, 30, 90], [20, 250, 30], [128, 128, 128]], np.uint8)
    palettes = stack_palettes([palette])
    images = torch.rand(1, 3, 24, 32, generator=generator)
    images[0, :, 0, 0] = torch.tensor([5, 0, 0]) / 255  # midway between entries 0 and 1: the lower index wins
    truth = requantize(images, palettes)
    assert torch.equal(truth[0, :, 0, 0] * 255, torch.tensor([0.0, 0.0, 0.0]))
    near = truth.clone()
    near[0, :, 0, 0] = torch.tensor([10, 0, 0]) / 255  # the tie's other colour as the hint
    wrong = torch.roll(truth, 1, dims=-1)
    elsewhere = torch.full_like(truth, 77 / 255)  # a colour the palette does not have
    for hints in (near, wrong, elsewhere):
        assert torch.equal(requantize(images, palettes, hints=hints), truth)


def test_pixels_just_past_a_face_are_projected_and_just_inside_are_not():
    """The consistency step settles pixels well inside their cells without searching the
    palette; at half the distance to the nearest other colour, the face itself, it must
    still tell inside (kept) from outside (moved) to a hundredth of a level."""
    from kinema.ops.color import project_to_cells

    palette = np.array([[100, 100, 100], [140, 100, 100], [0, 0, 255]], np.uint8)  # the face: x = 120
    gif = torch.tensor([100.0, 100.0, 100.0])[None, :, None, None].expand(1, 3, 1, 2) / 255
    image = torch.tensor([[119.98, 120.02], [100.0, 100.0], [100.0, 100.0]])[None, :, None, :] / 255
    fixed = project_to_cells(image, gif, stack_palettes([palette]))
    assert torch.equal(fixed[..., 0], image[..., 0])
    assert float(fixed[0, 0, 0, 1]) * 255 < 120 < float(image[0, 0, 0, 1]) * 255


def test_local_means_come_from_a_dithered_gif_and_detail_from_the_restoration():
    """The soft step for dithered GIFs: a colour cast over a region (wrong low frequencies)
    is taken away, because a dithered GIF's local means are its source's; a pattern finer
    than σ (the detail the network restores) is kept."""
    from kinema.ops.color import keep_local_means

    source = smooth(6, 48, 64)
    indices, palette = quantize_gif(source, 16, dither=True)
    gif, truth = _as_tensor(palette[indices]), _as_tensor(source)
    cast = (truth + 0.06).clamp(0, 1)
    error = lambda x: float((x - truth).square().mean())  # noqa: E731
    assert error(keep_local_means(cast, gif, 0.7)) < 0.25 * error(cast)
    # An offset the same everywhere is all low frequency: removed exactly.
    assert torch.allclose(keep_local_means(gif + 0.1, gif, 1.0), gif, atol=1e-6)
    # A checkerboard is all high frequency: kept to within 5 % at σ = 0.7.
    board = 0.1 * (torch.arange(48)[:, None] + torch.arange(64)[None]).remainder(2).float().sub(0.5)
    kept = keep_local_means(gif + board, gif, 0.7) - gif
    assert float((kept[..., 4:-4, 4:-4] - board[4:-4, 4:-4]).abs().max()) < 0.05 * 0.05
    assert keep_local_means(torch.rand(1, 3, 1, 1), torch.rand(1, 3, 1, 1), 1.0).shape == (1, 3, 1, 1)
