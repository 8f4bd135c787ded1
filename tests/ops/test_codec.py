import pytest
import torch

from kinema.ops.codec import jpeg_approx, jpeg_roundtrip, quant_table, round_8bit
from kinema.ops.metrics import psnr
from tests.media import smooth


def _image(h=40, w=56):
    return torch.from_numpy(smooth(3, h, w)).permute(2, 0, 1).float()[None] / 255


def test_round_8bit_is_exact_forward_and_straight_through_backward():
    x = torch.tensor([-0.2, 0.0, 0.5, 0.99, 1.3], requires_grad=True)
    y = round_8bit(x)
    assert torch.equal(y * 255, torch.tensor([0.0, 0.0, 128.0, 252.0, 255.0]))
    y.sum().backward()
    assert torch.equal(x.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))  # clamped ends get no gradient


def test_quant_table_follows_the_ijg_quality_scaling():
    assert quant_table(50, chroma=False)[0, 0] == 16  # quality 50 is the standard table
    assert quant_table(90, chroma=False)[0, 0] == 3  # (16·20 + 50) // 100
    assert quant_table(100, chroma=True).max() == 1
    with pytest.raises(ValueError):
        quant_table(0, chroma=False)


def test_jpeg_approximation_matches_the_real_codec():
    x = _image() * 0.8 + 0.1 * torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    real, approx = jpeg_roundtrip(x, 90), jpeg_approx(x, 90)
    assert approx.shape == x.shape
    assert float(psnr(approx, real)[0]) > 40  # far closer to Pillow's output than either is to x
    assert float(psnr(approx, real)[0]) > float(psnr(real, x)[0]) + 5
    assert float(psnr(jpeg_approx(x, 30), x)[0]) < float(psnr(approx, x)[0])  # lower quality loses more


def test_jpeg_approximation_passes_gradients():
    x = _image(17, 23).requires_grad_(True)
    jpeg_approx(x, 90).mean().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
