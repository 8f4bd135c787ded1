import math

import pytest
import torch

from kinema.ops.blur import Shutter, exposure_offsets, integrate


def moving_dot(speed: float, size: int = 64):
    """A render function: one bright pixel at x = 8 + speed·s on row 10."""

    def render(s: float) -> torch.Tensor:
        image = torch.zeros(1, size, size)
        image[0, 10, math.floor(8 + speed * s + 1e-6)] = 1.0  # the pixel the dot is in
        return image

    return render


@pytest.mark.parametrize("speed, exposure, steps", [(16.0, 0.5, 8), (24.0, 1.0, 24), (10.0, 0.3, 3)])
def test_a_moving_dot_becomes_a_line_of_the_right_length(speed, exposure, steps):
    blurred = integrate(moving_dot(speed), 1.0, exposure, steps)
    lit = blurred[0, 10].nonzero().flatten()
    # The streak covers speed·exposure pixels (one sample per sub-interval), no other row.
    assert len(lit) == steps
    assert float(lit.max() - lit.min() + 1) == pytest.approx(speed * exposure, abs=1.0)
    assert float(blurred.sum()) == pytest.approx(1.0)  # light is conserved
    assert float(blurred[0, 10].sum()) == pytest.approx(1.0)
    # centred on the dot's position at the centre time
    centre = float((lit.float() * blurred[0, 10, lit]).sum())
    assert centre == pytest.approx(8 + speed, abs=1.0)


def test_no_exposure_is_the_sharp_frame():
    render = moving_dot(5.0)
    assert torch.equal(integrate(render, 2.0, 0.0, 9), render(2.0))
    assert exposure_offsets(1.0, 4) == [-0.375, -0.125, 0.125, 0.375]
    with pytest.raises(ValueError):
        exposure_offsets(1.0, 0)


def test_shutter_averages_runs_of_frames_around_a_sharp_centre():
    frames = [torch.full((1, 2, 2), float(i), dtype=torch.float32) for i in range(12)]
    shutter = Shutter(stride=4, frames=3)
    assert shutter.exposure == 0.75
    assert list(shutter.span(1)) == [4, 5, 6]
    assert shutter.centre(1) == 5 and shutter.between(1) == 7
    assert torch.equal(shutter.blur(frames, 1), torch.full((1, 2, 2), 5.0))
    assert shutter.count(12) == 3 and shutter.count(11) == 3 and shutter.count(10) == 2 and shutter.count(2) == 0
    assert Shutter(3, 3).between(0) is None
    u8 = [torch.full((1, 1, 1), v, dtype=torch.uint8) for v in (250, 251, 255)]
    assert float(Shutter(3, 3).blur(u8, 0)) == pytest.approx(252.0)  # no uint8 overflow
    for bad in ((4, 2), (2, 3), (1, 0)):
        with pytest.raises(ValueError):
            Shutter(*bad)
