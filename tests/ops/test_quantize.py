"""Weights for sending: float16 and 8 bits per weight with a scale per output channel."""

import pytest
import torch
from torch import nn

from kinema.ops.quantize import dequantize_state, quantize_state


def test_8_bit_weights_are_within_half_a_step_of_each_channels_scale():
    g = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(4, 6, 3)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(6, 4, 3, 3, generator=g) * torch.logspace(-3, 0, 6).view(6, 1, 1, 1))
    state = {**conv.state_dict(), "steps": torch.tensor(7)}
    packed = quantize_state(state, bits=8)
    assert packed["weight.int8"].dtype == torch.int8 and packed["weight.scale"].shape == (6,)
    assert packed["bias"].dtype == torch.float16 and packed["steps"].dtype == torch.int64
    back = dequantize_state(packed)
    error = (back["weight"] - state["weight"]).abs().flatten(1).amax(1)
    step = state["weight"].abs().flatten(1).amax(1) / 127
    assert (error <= step * 0.51).all()  # per channel: the small channel keeps its precision
    assert back["steps"] == 7


def test_transposed_convolutions_scale_along_their_output_channels():
    up = nn.ConvTranspose2d(3, 5, 4)
    with torch.no_grad():
        up.weight.mul_(torch.logspace(-3, 0, 5).view(1, 5, 1, 1))
    packed = quantize_state(up.state_dict(), bits=8, transposed={"weight"})
    assert packed["weight.scale"].shape == (5,)
    back = dequantize_state(packed, transposed={"weight"})
    relative = ((back["weight"] - up.weight).abs().amax((0, 2, 3)) / up.weight.abs().amax((0, 2, 3))).max()
    assert relative <= 0.51 / 127  # half a step, on every channel however small


def test_16_bit_and_errors():
    state = nn.Linear(3, 2).state_dict()
    back = dequantize_state(quantize_state(state, bits=16))
    assert all(torch.allclose(back[k], state[k], atol=1e-3) and back[k].dtype == torch.float32 for k in state)
    with pytest.raises(ValueError, match="bits must be 8 or 16"):
        quantize_state(state, bits=4)
    packed = quantize_state(state, bits=8)
    del packed["weight.scale"]
    with pytest.raises(ValueError, match="without their scales"):
        dequantize_state(packed)
