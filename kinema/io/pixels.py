"""Conversions between stored pixel arrays and kinema's float tensors.

Every reader and writer goes through these two functions, so that the integer ↔ float
mapping is defined once: ``value / (2**bits - 1)`` on the way in, round-to-nearest on
the way out. float32 holds every 8- and 16-bit code exactly, so a lossless format
round-trips bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def from_hwc(array: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(H, W)``, ``(H, W, 1|2|3|4)`` uint8/uint16 RGB(A) or gray(A) → (image, alpha).

    Returns image ``(3, H, W)`` float32 in [0, 1] and alpha ``(1, H, W)`` or None.
    """
    import torch  # loaded by the first frame, not by importing kinema.io

    if array.dtype == np.uint8:
        scale = 255.0
    elif array.dtype == np.uint16:
        scale = 65535.0
    else:
        raise TypeError(f"expected uint8 or uint16 pixels, got {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    channels = array.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ValueError(f"expected 1-4 channels, got {channels}")
    # Planes first while the samples are still 1-2 bytes, then one float copy divided in
    # place: a 4:1 8K frame is 177 MB as float32, and each extra copy shows in peak memory.
    data = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)).astype(np.float32))
    data /= scale
    color = data[:3] if channels >= 3 else data[:1].expand(3, -1, -1)
    alpha = data[channels - 1 :] if channels in (2, 4) else None
    return color.contiguous(), None if alpha is None else alpha.contiguous()


def to_hwc(
    image: torch.Tensor, alpha: torch.Tensor | None = None, *, bit_depth: int = 8
) -> np.ndarray:
    """image ``(3, H, W)`` [+ alpha ``(1, H, W)``] in [0, 1] → ``(H, W, 3|4)`` uint8/uint16."""
    import torch  # loaded by the first frame, not by importing kinema.io

    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    planes = image if alpha is None else torch.cat([image, alpha], dim=0)
    peak = 255.0 if bit_depth == 8 else 65535.0
    data = planes.detach().to("cpu", torch.float32).clamp(0.0, 1.0)  # a new tensor: the caller's is never changed
    data.mul_(peak).round_()
    return data.permute(1, 2, 0).numpy().astype(np.uint8 if bit_depth == 8 else np.uint16, order="C")


def flatten(image: torch.Tensor, alpha: torch.Tensor | None, background: float = 0.0) -> torch.Tensor:
    """Composite straight alpha over a flat background, for outputs that cannot store alpha."""

    if alpha is None:
        return image
    return image * alpha + background * (1.0 - alpha)
