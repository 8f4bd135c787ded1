import torch

from kinema.ops.scenes import is_cut, is_repeat


def _texture(seed: int, h: int = 72, w: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 8, w // 8, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def test_motion_is_not_a_cut_but_another_shot_is():
    a = _texture(0)
    moved = torch.roll(a, shifts=(4, 9), dims=(-2, -1))
    other = _texture(1) * 0.6 + 0.3  # different content and colours
    assert not is_cut(a, moved)[0]
    assert is_cut(a, other)[0]


def test_repeat_tolerates_codec_noise_only():
    a = _texture(2)
    noisy = (a + torch.randn_like(a) * 0.002).clamp(0, 1)
    assert is_repeat(a, noisy)[0]
    assert not is_repeat(a, torch.roll(a, 3, -1))[0]
