import pytest
import torch

from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.ops.bilateral import BilateralConfig, bilateral_motion, match_error
from kinema.ops.warp import backward_warp
from tests.media import texture

#: The content moves by this between a and b ([dx, dy] pixels, sub-pixel on purpose).
MOTION = torch.tensor([2.6, -1.8]).view(1, 2, 1, 1)


def _pair(height: int = 128, width: int = 160) -> tuple[torch.Tensor, torch.Tensor]:
    scene = texture(height, width, seed=3)
    still = torch.zeros(1, 2, height, width)
    # a(x) = scene(x + v/2), b(x) = scene(x − v/2): the content moves by v from a to b,
    # and the frame at t = 0.5 is the scene itself.
    return backward_warp(scene, still + 0.5 * MOTION), backward_warp(scene, still - 0.5 * MOTION)


@pytest.mark.parametrize("start", ["zero", "noisy"])
def test_bilateral_motion_recovers_a_known_translation(start):
    a, b = _pair()
    init = torch.zeros(1, 2, *a.shape[-2:])
    if start == "noisy":
        init = MOTION + torch.randn(init.shape, generator=torch.Generator().manual_seed(0))
    v = bilateral_motion(a, b, 0.5, init)
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))  # away from the borders' replicated pixels
    assert (v[inner] - MOTION).abs().mean() < 0.1  # the noisy start is off by 0.8 px on average
    before = match_error(a, b, -0.5 * init, 0.5 * init)[inner].mean()
    after = match_error(a, b, -0.5 * v, 0.5 * v)[inner].mean()
    assert after < 0.1 * before


def test_the_classical_engine_takes_bilateral_motion_as_an_option():
    a, b = _pair(96, 128)
    plain = ClassicalEngine(ClassicalConfig.balanced()).interpolate(a, b, [0.25, 0.5])
    refined = ClassicalEngine(ClassicalConfig.balanced().replace(bilateral=BilateralConfig())).interpolate(a, b, [0.25, 0.5])
    assert refined.shape == plain.shape == (1, 2, 3, 96, 128)
    assert not torch.equal(refined, plain) and 0 <= refined.min() and refined.max() <= 1


@pytest.mark.parametrize("bad", [{"window": 4}, {"window": 0}, {"levels": -1}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        BilateralConfig(**bad)
