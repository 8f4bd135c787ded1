"""What saving an image does to it: 8-bit rounding and JPEG, exact and differentiable.

A network that hides information in an image (the video snapshot) must be trained on the
image as it will be stored. :func:`round_8bit` rounds to 8 bits exactly in the forward
pass and lets gradients through unchanged (straight-through), so training sees what a PNG
holds. :func:`jpeg_approx` does the same for baseline JPEG as libjpeg writes it (what
Pillow uses): full-range YCbCr, 4:2:0 chroma (2×2 means), 8×8 DCT, the standard tables
scaled by the IJG quality formula, rounding, and the inverse with smooth chroma
upsampling. Only the rounding steps are straight-through; every other step is the exact
linear map, so the approximation is close to the real codec (tested against Pillow).
:func:`jpeg_roundtrip` runs the real codec (Pillow) for evaluation.

Shapes: ``(N, 3, H, W)`` RGB in [0, 1]; any H, W (padded inside to a multiple of 16).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

# The example tables of the JPEG standard (Annex K), which libjpeg scales by quality.
_LUMA = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]  # fmt: skip
_CHROMA = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, *([99] * 32),
]  # fmt: skip

# JFIF full-range RGB ↔ YCbCr.
_TO_YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_TO_RGB = torch.linalg.inv(_TO_YCC)


def round_8bit(x: torch.Tensor) -> torch.Tensor:
    """``x`` clamped and rounded to multiples of 1/255 (what an 8-bit file stores); the
    gradient passes straight through the rounding (not the clamp)."""
    x = x.clamp(0, 1)
    return x + ((x * 255).round() / 255 - x).detach()


def _straight_round(x: torch.Tensor) -> torch.Tensor:
    return x + (x.round() - x).detach()


def quant_table(quality: int, *, chroma: bool) -> torch.Tensor:
    """libjpeg's quantization table ``(8, 8)`` for ``quality`` in 1..100."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    base = torch.tensor(_CHROMA if chroma else _LUMA, dtype=torch.float32)
    return ((base * scale + 50) // 100).clamp(1, 255).reshape(8, 8)


def _dct_matrix() -> torch.Tensor:
    n = torch.arange(8, dtype=torch.float64)
    basis = torch.cos((2 * n[None, :] + 1) * n[:, None] * math.pi / 16)
    basis[0] *= 1 / math.sqrt(2)
    return (basis * 0.5).float()  # orthonormal 8-point DCT-II: rows are frequencies


_DCT = _dct_matrix()


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` → ``(N, H/8, W/8, 8, 8)``."""
    n, h, w = x.shape
    return x.reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(b: torch.Tensor) -> torch.Tensor:
    n, bh, bw = b.shape[:3]
    return b.permute(0, 1, 3, 2, 4).reshape(n, bh * 8, bw * 8)


def _code_plane(plane: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """One plane ``(N, H, W)`` (level-shifted, 0–255 units) through DCT, quantization and back."""
    dct = _DCT.to(plane)
    coefficients = dct @ _blocks(plane) @ dct.T
    table = table.to(plane)
    coefficients = _straight_round(coefficients / table) * table
    return _unblocks(dct.T @ coefficients @ dct)


def jpeg_approx(rgb: torch.Tensor, quality: int = 90) -> torch.Tensor:
    """A differentiable stand-in for saving ``rgb`` ``(N, 3, H, W)`` as a baseline JPEG at
    ``quality`` with 4:2:0 chroma and decoding it again (8-bit output, see module docstring)."""
    h, w = rgb.shape[-2:]
    x = F.pad(round_8bit(rgb), (0, -w % 16, 0, -h % 16), mode="replicate") * 255
    ycc = torch.einsum("ij,njhw->nihw", _TO_YCC.to(x), x)
    luma = _code_plane(ycc[:, 0] - 128, quant_table(quality, chroma=False)) + 128
    chroma = F.avg_pool2d(ycc[:, 1:], 2)  # Cb, Cr are centred on 0 already
    table = quant_table(quality, chroma=True)
    chroma = torch.stack([_code_plane(chroma[:, c], table) for c in range(2)], 1)
    chroma = F.interpolate(chroma, scale_factor=2, mode="bilinear", align_corners=False)
    out = torch.einsum("ij,njhw->nihw", _TO_RGB.to(x), torch.cat([luma[:, None], chroma], 1))
    return round_8bit(out[..., :h, :w] / 255)


def jpeg_roundtrip(rgb: torch.Tensor, quality: int = 90) -> torch.Tensor:
    """``rgb`` ``(N, 3, H, W)`` saved as JPEG by Pillow (4:2:0) and decoded: the real codec."""
    out = []
    for image in rgb:
        array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        out.append(torch.from_numpy(decoded.copy()).permute(2, 0, 1))
    return torch.stack(out).to(rgb.device, torch.float32) / 255
