import dataclasses

import cv2
import numpy as np
import torch

from kinema.ops.blur import exposure_offsets
from kinema.ops.warp import backward_warp, base_grid
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets, load_photos


def _photos(count: int = 3) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    return [
        torch.nn.functional.interpolate(torch.rand(1, 3, 12, 16, generator=g), size=(90, 120), mode="bicubic").clamp(0, 1)[0]
        for _ in range(count)
    ]


def test_same_seed_same_samples_and_frames_differ_over_time():
    gen = SyntheticTriplets(_photos(), SyntheticConfig.tiny())
    first = gen.sample(torch.Generator().manual_seed(3))
    again = gen.sample(torch.Generator().manual_seed(3))
    for x, y in zip(first[:3], again[:3]):
        assert torch.equal(x, y)
    a, mid, b, t = first
    assert a.shape == mid.shape == b.shape == (3, 48, 64) and 0 < t < 1
    assert (a - b).abs().mean() > 1e-3  # something moved


def test_background_only_translation_is_exact_at_any_t():
    config = dataclasses.replace(SyntheticConfig.tiny(), min_sprites=0, max_sprites=0, blur_probability=0.0, brightness=0.0)
    gen = SyntheticTriplets(_photos(), config)
    g = torch.Generator().manual_seed(5)
    scene = gen.scene(g)
    (dx, dy) = scene.layers[0][2].shift
    a, mid = scene.render(0.0), scene.render(0.3)
    flow = torch.tensor([-0.3 * dx, -0.3 * dy]).view(1, 2, 1, 1).expand(1, 2, 48, 64)
    moved = backward_warp(a[None], flow.contiguous())[0]
    inner = (slice(None), slice(6, -6), slice(6, -6))
    assert torch.allclose(moved[inner], mid[inner], atol=0.02)


def test_sprites_occlude_and_blur_is_a_time_average():
    config = dataclasses.replace(SyntheticConfig.tiny(), min_sprites=2, max_sprites=2, blur_probability=1.0, brightness=0.0)
    gen = SyntheticTriplets(_photos(), config)
    scene = gen.scene(torch.Generator().manual_seed(11))
    assert len(scene.layers) == 3 and scene.exposure > 0
    sharp = dataclasses.replace(scene, steps=1)
    offsets = exposure_offsets(scene.exposure, scene.steps)  # the shutter's sub-interval midpoints
    average = torch.stack([sharp.render(0.5 + o) for o in offsets]).mean(0)
    assert torch.allclose(scene.render(0.5), average, atol=1e-5)


def test_load_photos_limits_the_size(tmp_path):
    cv2.imwrite(str(tmp_path / "p1.jpg"), (np.random.default_rng(0).random((300, 500, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "p2.png"), np.zeros((20, 30, 3), np.uint8))
    photos = load_photos(tmp_path, max_side=100)
    assert [tuple(p.shape) for p in photos] == [(3, 60, 100), (3, 20, 30)]


def test_label_maps_follow_each_sprite_and_put_the_front_one_on_top():
    config = dataclasses.replace(SyntheticConfig.tiny(), min_sprites=2, max_sprites=2, blur_probability=0.0, brightness=0.0, max_rotation=0.0, max_log_scale=0.0, sprite_size=(0.4, 0.7))
    gen = SyntheticTriplets(_photos(), config)
    checked = overlapped = 0
    for seed in range(6):
        scene = gen.scene(torch.Generator().manual_seed(seed))
        start, end = scene.labels(0.0), scene.labels(1.0)
        assert start.shape == (48, 64) and start.dtype == torch.int64 and int(start.max()) <= 2
        for k in (1, 2):
            if not ((start == k).sum() > 30 and (end == k).sum() > 30):
                continue  # out of view or hidden: nothing to follow
            # A sprite that only translates: the pixels it covers at s = 1 are those it
            # covered at s = 0, moved by its shift (the front sprite hides the back one).
            dx, dy = (round(v) for v in scene.layers[k][2].shift)
            moved = torch.roll(start == k, shifts=(dy, dx), dims=(0, 1))
            agree = (moved & (end == k)).sum() / (end == k).sum()
            assert agree > 0.6, (seed, k, float(agree))
            checked += 1
        # Where the two sprites overlap, the label is the later (front) layer's.
        seen = scene.labels(0.5)
        covers = []
        for _, alpha, motion in scene.layers[1:]:
            grid = base_grid(*alpha.shape[-2:])
            cover = backward_warp(alpha, motion.source_coords(grid, 0.5) - grid)[0, 0]
            m = scene.margin
            covers.append(cover[m:-m, m:-m])
        both = (covers[0] > 0.5) & (covers[1] > 0.5)
        assert bool((seen[both] == 2).all())
        overlapped += int(both.any())
    assert checked >= 4 and overlapped >= 1


def test_camera_zoom_scales_the_background_about_the_centre_and_small_sprites_are_small():
    config = dataclasses.replace(SyntheticConfig.tiny(), min_sprites=0, max_sprites=0, blur_probability=0.0, brightness=0.0, background_zoom=0.2)
    gen = SyntheticTriplets(_photos(), config)
    scales = [gen.scene(torch.Generator().manual_seed(s)).layers[0][2].log_scale for s in range(20)]
    assert all(abs(v) <= 0.2 for v in scales) and max(abs(v) for v in scales) > 0.05
    scene = gen.scene(torch.Generator().manual_seed(int(np.argmax(np.abs(scales)))))
    motion = scene.layers[0][2]
    a, b = scene.render(0.0), scene.render(1.0)
    # b at x is a at the point the motion maps x from: the exact affine map, zoom included.
    m = scene.margin
    grid = base_grid(48 + 2 * m, 64 + 2 * m)
    back = (motion.source_coords(grid, 1.0) - grid)[..., m:-m, m:-m]
    moved = backward_warp(a[None], back.contiguous())[0]
    inner = (slice(None), slice(10, -10), slice(12, -12))
    assert torch.allclose(moved[inner], b[inner], atol=0.03)
    small = SyntheticTriplets(_photos(), dataclasses.replace(SyntheticConfig.tiny(), min_sprites=3, max_sprites=3, small_fast=1.0))
    sprites = small.scene(torch.Generator().manual_seed(2)).layers[1:]
    low = SyntheticConfig.tiny().sprite_size[0]
    assert all(int(alpha.gt(0).any(-1).sum()) <= max(4, int(48 * low)) for _, alpha, _ in sprites)
    assert max(np.hypot(*mo.shift) for _, _, mo in sprites) > SyntheticConfig.tiny().sprite_shift  # faster than a normal sprite can be


def test_smooth_clips_are_smooth_moving_many_coloured_and_seeded():
    from kinema.train.gif2video import HELD_OUT_SMOOTH_SEEDS, SMOOTH_SEEDS, smooth_clips

    clips = smooth_clips(4, frames=3, side=64)
    assert [len(c) for c in clips] == [3, 3, 3, 3]
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for c in clips for f in c)
    clean, noisy = clips[0][0].astype(int), clips[1][0].astype(int)
    # Smooth: neighbouring pixels mostly equal or one level apart; noise (odd clips) adds steps.
    assert np.median(np.abs(np.diff(clean, axis=1))) <= 1
    assert np.abs(np.diff(noisy, axis=1)).mean() > np.abs(np.diff(clean, axis=1)).mean()
    # Many colours (what a palette has to squeeze), and the content moves between frames.
    assert all(len(np.unique(c[0].reshape(-1, 3), axis=0)) > 256 for c in clips)
    assert all(np.abs(c[1].astype(int) - c[0]).mean() > 0.05 for c in clips)
    # Clip i comes from seed SMOOTH_SEEDS + i; the benchmarks' seeds give other clips.
    again = smooth_clips(1, first_seed=SMOOTH_SEEDS + 2, frames=3, side=64)[0]
    assert all(np.array_equal(a, b) for a, b in zip(again, clips[2]))
    held = smooth_clips(1, first_seed=HELD_OUT_SMOOTH_SEEDS, frames=3, side=64)[0]
    assert not np.array_equal(held[0], clips[0][0])
