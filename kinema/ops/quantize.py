"""Weights made small for sending: float16, or 8-bit integers with a scale per channel.

8-bit quantization is symmetric and per output channel (the first dimension of a
convolution's weight; the second of a transposed convolution's, whose first is the
input): one channel with large weights then does not coarsen every other channel's
steps. One-dimensional tensors (batch-norm statistics, biases) are a few hundred
numbers and stay float16. Integer tensors (batch-norm's step counter) are kept as they are.
"""

from __future__ import annotations

import torch

#: Suffixes of the two tensors that stand for one quantized tensor.
CODES, SCALES = ".int8", ".scale"


def quantize_state(state: dict[str, torch.Tensor], *, bits: int, transposed: set[str] = frozenset()) -> dict[str, torch.Tensor]:
    """``state`` for sending: ``bits`` 16 → every float tensor in float16; ``bits`` 8 → each
    float tensor of 2+ dimensions as ``name.int8`` (int8) and ``name.scale`` (float32, one
    per channel along dim 1 for names in ``transposed``, else dim 0)."""
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    out = {}
    for name, tensor in state.items():
        tensor = tensor.detach().cpu()
        if not tensor.is_floating_point():
            out[name] = tensor
        elif bits == 16 or tensor.ndim < 2:
            out[name] = tensor.half()
        else:
            dim = 1 if name in transposed else 0
            rows = tensor.movedim(dim, 0).reshape(tensor.shape[dim], -1)
            # float32: a layer's smallest weights need scales below float16's normal range,
            # where it keeps two or three significant digits.
            scale = (rows.abs().amax(1) / 127).clamp_min(1e-30)
            codes = (rows / scale[:, None]).round().clamp(-127, 127).to(torch.int8)
            moved = (tensor.shape[dim], *(s for i, s in enumerate(tensor.shape) if i != dim))
            out[name + CODES] = codes.reshape(moved).movedim(0, dim).contiguous()
            out[name + SCALES] = scale
    return out


def dequantize_state(packed: dict[str, torch.Tensor], *, transposed: set[str] = frozenset()) -> dict[str, torch.Tensor]:
    """The inverse of :func:`quantize_state`: float32 tensors (integer ones unchanged)."""
    out = {}
    for name, tensor in packed.items():
        if name.endswith(SCALES):
            continue
        if name.endswith(CODES):
            base = name[: -len(CODES)]
            scale = packed.get(base + SCALES)
            if scale is None:
                raise ValueError(f"{base}: 8-bit weights without their scales")
            dim = 1 if base in transposed else 0
            shape = [1] * tensor.ndim
            shape[dim] = -1
            out[base] = tensor.float() * scale.view(shape)
        else:
            out[name] = tensor.float() if tensor.is_floating_point() else tensor
    return out
