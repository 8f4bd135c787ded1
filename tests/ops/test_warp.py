import pytest
import torch

from kinema.ops.warp import Padding, adaptive_warp, backward_warp


def test_zero_flow_is_identity():
    image = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(backward_warp(image, torch.zeros(2, 2, 5, 7)), image, atol=1e-6)


def test_integer_flow_moves_content_the_documented_way():
    image = torch.zeros(1, 1, 6, 8)
    image[0, 0, 2, 3] = 1.0  # a dot at x=3, y=2
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0], flow[:, 1] = -2.0, -1.0  # out[y, x] = in[y - 1, x - 2]: content moves by (+2, +1)
    out = backward_warp(image, flow, padding=Padding.ZEROS)
    assert out[0, 0, 3, 5] == 1.0 and out.sum() == 1.0


def test_half_pixel_flow_interpolates_bilinearly():
    image = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])
    flow = torch.zeros(1, 2, 1, 4)
    flow[:, 0] = 0.5
    out = backward_warp(image, flow)
    assert torch.allclose(out[0, 0, 0, :3], torch.tensor([0.5, 1.5, 2.5]))
    assert out[0, 0, 0, 3] == 3.0  # border padding clamps at the edge


@pytest.mark.parametrize("padding, expected", [(Padding.BORDER, 1.0), (Padding.ZEROS, 0.0)])
def test_padding_outside_the_frame(padding, expected):
    flow = torch.full((1, 2, 3, 3), 10.0)
    assert torch.all(backward_warp(torch.ones(1, 1, 3, 3), flow, padding=padding) == expected)


def test_one_pixel_images():
    image = torch.rand(1, 3, 1, 1)
    assert torch.equal(backward_warp(image, torch.zeros(1, 2, 1, 1)), image)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError):
        backward_warp(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 5))


def test_gradients_reach_the_flow():
    image = torch.linspace(0, 1, 16).reshape(1, 1, 4, 4)
    flow = torch.full((1, 2, 4, 4), 0.3, requires_grad=True)
    backward_warp(image, flow).sum().backward()
    assert flow.grad is not None and flow.grad.abs().sum() > 0


@pytest.mark.parametrize("channels", [1, 2, 3, 5])
@pytest.mark.parametrize("padding", [Padding.BORDER, Padding.ZEROS])
def test_opencv_fast_path_matches_grid_sample(channels, padding):
    torch.manual_seed(0)
    image = torch.rand(2, channels, 13, 21)
    flow = torch.randn(2, 2, 13, 21) * 4
    with torch.no_grad():
        fast = backward_warp(image, flow, padding=padding)  # no autograd: cv2.remap
    slow = backward_warp(image.requires_grad_(), flow, padding=padding).detach()  # grid_sample
    assert torch.allclose(fast, slow, atol=1e-4)


def _delta(n: int, k: int, h: int, w: int) -> torch.Tensor:
    kernel = torch.zeros(n, k * k, h, w)
    kernel[:, k * k // 2] = 1
    return kernel


@pytest.mark.parametrize("grad", [False, True])  # the OpenCV path and the autograd path
def test_adaptive_warp_with_a_delta_kernel_is_the_bilinear_warp(grad):
    g = torch.Generator().manual_seed(0)
    image, flow = torch.rand(2, 3, 20, 30, generator=g), torch.randn(2, 2, 20, 30, generator=g) * 3
    image.requires_grad_(grad)
    for k, kernel_size in ((3, (20, 30)), (5, (7, 9))):  # full-size kernels and kernels upsampled
        out = adaptive_warp(image, flow, _delta(2, k, *kernel_size), spacing=2.5)
        torch.testing.assert_close(out, backward_warp(image, flow), atol=1e-5, rtol=0)


def test_adaptive_warp_taps_sit_at_their_offsets_and_mix_linearly():
    g = torch.Generator().manual_seed(1)
    image, flow = torch.rand(1, 3, 16, 24, generator=g), torch.randn(1, 2, 16, 24, generator=g)
    kernel = torch.zeros(1, 9, 16, 24)
    kernel[:, 5] = 0.75  # row 1, column 2: offset (dx, dy) = (+2, 0) at spacing 2
    kernel[:, 1] = 0.25  # row 0, column 1: offset (0, −2)
    expected = 0.75 * backward_warp(image, flow + torch.tensor([2.0, 0]).view(1, 2, 1, 1))
    expected += 0.25 * backward_warp(image, flow + torch.tensor([0, -2.0]).view(1, 2, 1, 1))
    torch.testing.assert_close(adaptive_warp(image, flow, kernel, spacing=2), expected, atol=1e-5, rtol=0)


def test_adaptive_warp_refuses_kernels_that_are_not_odd_squares():
    image, flow = torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 8)
    for taps in (4, 8):
        with pytest.raises(ValueError, match="kernel"):
            adaptive_warp(image, flow, torch.ones(1, taps, 8, 8))
