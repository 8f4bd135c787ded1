import torch

from kinema.ops.scenes import is_cut, is_repeat
from tests.media import texture


def test_motion_is_not_a_cut_but_another_shot_is():
    a = texture(72, 96, seed=0, cell=8)
    moved = torch.roll(a, shifts=(4, 9), dims=(-2, -1))
    other = texture(72, 96, seed=1, cell=8) * 0.6 + 0.3  # different content and colours
    assert not is_cut(a, moved)[0]
    assert is_cut(a, other)[0]


def test_repeat_tolerates_codec_noise_only():
    a = texture(72, 96, seed=2, cell=8)
    noisy = (a + torch.randn_like(a) * 0.002).clamp(0, 1)
    assert is_repeat(a, noisy)[0]
    assert not is_repeat(a, torch.roll(a, 3, -1))[0]
