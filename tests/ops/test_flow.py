import pytest
import torch

from kinema.ops.flow import DISPreset, dis_flow
from kinema.ops.warp import backward_warp
from tests.media import texture


def shifted_pair(dx=3, dy=2):
    big = texture(64 + 16, 96 + 16, cell=8)
    a = big[:, :, 8 : 8 + 64, 8 : 8 + 96]
    b = big[:, :, 8 - dy : 8 - dy + 64, 8 - dx : 8 - dx + 96]  # content moved by (+dx, +dy)
    return a, b


@pytest.mark.parametrize("preset", list(DISPreset))
def test_dis_recovers_a_known_translation(preset):
    a, b = shifted_pair(3, 2)
    flow = dis_flow(a, b, preset=preset)
    core = flow[:, :, 8:-8, 8:-8]
    assert abs(core[:, 0].median().item() - 3) < 0.25 and abs(core[:, 1].median().item() - 2) < 0.25
    # The convention: warping b by the a→b flow rebuilds a.
    err = (backward_warp(b, flow) - a)[:, :, 8:-8, 8:-8].abs().mean()
    assert err < 0.01


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (5, 3), (17, 33)])
def test_any_frame_size_works(size):
    a = torch.rand(1, 3, *size)
    assert dis_flow(a, a.flip(-1)).shape == (1, 2, *size)
