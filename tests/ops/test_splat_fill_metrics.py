import math

import pytest
import torch

from kinema.ops.fill import push_pull_fill
from kinema.ops.metrics import ms_ssim, precision_recall_f1, psnr, ssim, transition_counts
from kinema.ops.splat import forward_splat


def test_splat_moves_a_pixel_along_its_flow_and_splits_bilinearly():
    values = torch.zeros(1, 1, 6, 6)
    values[0, 0, 1, 1] = 1.0
    flow = torch.zeros(1, 2, 6, 6)
    flow[0, 0], flow[0, 1] = 2.0, 1.5  # dx = 2, dy = 1.5: lands between rows 2 and 3 of column 3
    out = forward_splat(values, flow)[0, 0]
    assert out[2, 3] == pytest.approx(0.5) and out[3, 3] == pytest.approx(0.5)
    assert out.sum() == pytest.approx(1.0)


def test_splat_conserves_mass_inside_and_drops_what_leaves():
    torch.manual_seed(0)
    ones = torch.ones(2, 1, 9, 11)
    flow = torch.rand(2, 2, 9, 11) * 0.9
    flow[:, :, -1], flow[:, :, :, -1] = 0, 0  # the last row and column stay put: nothing leaves
    assert forward_splat(ones, flow).sum().item() == pytest.approx(ones.sum().item(), rel=1e-5)
    gone = forward_splat(ones, torch.full((2, 2, 9, 11), 100.0))
    assert gone.abs().sum() == 0


def test_push_pull_fills_holes_from_surroundings_and_keeps_known_values():
    values = torch.full((1, 2, 12, 12), 3.0)
    values[:, :, 4:8, 4:8] = -50  # garbage in the hole
    known = torch.ones(1, 1, 12, 12)
    known[:, :, 4:8, 4:8] = 0
    filled = push_pull_fill(values, known)
    assert torch.allclose(filled, torch.full_like(filled, 3.0), atol=1e-5)
    odd = push_pull_fill(torch.rand(1, 1, 7, 5), torch.zeros(1, 1, 7, 5))
    assert torch.isfinite(odd).all()


def test_psnr_of_one_level_everywhere_is_48_13_db():
    a = torch.full((1, 3, 8, 8), 100 / 255)
    b = torch.full((1, 3, 8, 8), 101 / 255)
    assert psnr(a, b).item() == pytest.approx(20 * math.log10(255), abs=1e-6)
    assert math.isinf(psnr(a, a).item())


def test_ssim_is_one_for_identical_images_and_lower_for_noise():
    torch.manual_seed(0)
    a = torch.rand(2, 3, 32, 32)
    assert torch.allclose(ssim(a, a), torch.ones(2, dtype=torch.float64))
    noisy = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    assert (ssim(a, noisy) < 0.95).all()
    assert ssim(torch.rand(1, 3, 3, 5), torch.rand(1, 3, 3, 5)).shape == (1,)  # smaller than the window


def test_scoring_matches_cuts_within_a_frame_and_graduals_by_overlap():
    truth = [("cut", 10, 10), ("dissolve", 30, 40), ("cut", 60, 60)]
    found = [("cut", 11, 11), ("cut", 35, 35), ("cut", 80, 80), ("dissolve", 50, 52)]
    counts = transition_counts(found, truth)
    assert counts == dict(cut_tp=1, cut_fp=1, cut_fn=1, gradual_tp=1, gradual_fp=1, gradual_fn=0)
    assert precision_recall_f1(counts, "cut") == (0.5, 0.5, 0.5)
    # Two detections in one dissolve: one finds it, the other is a false positive.
    assert transition_counts([("cut", 31, 31), ("cut", 38, 38)], [("dissolve", 30, 40)])["cut_fp"] == 1
    assert precision_recall_f1(transition_counts([], []), "cut") == (1.0, 1.0, 1.0)
    # More true cuts than detections: the rest are misses.
    assert transition_counts([("cut", 5, 5)], [("cut", 5, 5), ("cut", 9, 9)])["cut_fn"] == 1


def test_ms_ssim_is_one_for_equal_images_falls_with_noise_and_refuses_small_ones():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(1, 3, 180, 200, generator=g)
    light = (a + 0.02 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    heavy = (a + 0.1 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    assert ms_ssim(a, a).item() == pytest.approx(1.0)
    assert 1.0 > ms_ssim(a, light).item() > ms_ssim(a, heavy).item() > 0
    with pytest.raises(ValueError, match="176"):
        ms_ssim(a[..., :100, :], a[..., :100, :])
