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


def test_the_tests_give_the_same_answers_on_thumbnails_made_once():
    from kinema.ops.scenes import cut_score, difference, motion_error, thumbnail

    a = texture(300, 400, seed=3, cell=8)
    b = torch.roll(a, shifts=(5, 11), dims=(-2, -1)) * 0.9
    ta, tb = thumbnail(a), thumbnail(b)
    assert max(ta.shape[-2:]) == 128 and thumbnail(ta) is ta
    for test in (cut_score, difference, motion_error):
        assert torch.equal(test(a, b), test(ta, tb)), test.__name__
