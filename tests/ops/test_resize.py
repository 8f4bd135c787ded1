import pytest
import torch
import torch.nn.functional as F

from kinema.ops.flow import resize_flow
from kinema.ops.resize import bilinear


@pytest.mark.parametrize(("small", "large"), [((288, 512), (720, 1280)), ((7, 5), (13, 17)), ((100, 90), (37, 61))])
def test_the_fast_cpu_path_matches_torch_bilinear(small, large):
    torch.manual_seed(0)
    x = torch.rand(2, 3, *small) * 10
    with torch.inference_mode():
        fast = bilinear(x, *large)
    reference = F.interpolate(x, size=large, mode="bilinear", align_corners=False)
    assert fast.shape == reference.shape
    assert (fast - reference).abs().max() < 1e-3  # of a range of 10
    assert (fast - reference).abs().max() > 0 or small == large  # the cv2 path really ran


def test_with_autograd_the_torch_path_runs_and_passes_gradients():
    x = torch.rand(1, 2, 6, 8, requires_grad=True)
    y = bilinear(x, 12, 16)
    assert torch.equal(y, F.interpolate(x, size=(12, 16), mode="bilinear", align_corners=False))
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_resized_flows_are_rescaled_vectors():
    flow = torch.stack([torch.full((9, 16), 2.0), torch.full((9, 16), -1.0)])[None]
    with torch.inference_mode():
        up = resize_flow(flow, 18, 48)
        down = resize_flow(up, 9, 16)
    assert torch.allclose(up[0, 0], torch.full((18, 48), 6.0)) and torch.allclose(up[0, 1], torch.full((18, 48), -2.0))
    assert torch.allclose(down, flow)
