"""Optical flow between two frames (OpenCV DIS) and forward–backward consistency.

``dis_flow(a, b)`` returns the flow *from a to b*: ``a[p] ≈ b[p + flow(p)]``, so
``backward_warp(b, flow)`` reconstructs ``a`` (see :mod:`kinema.ops.warp`).
DIS runs on 8-bit grey images on the CPU; tensors are moved there and back.
"""

from __future__ import annotations

import enum

import cv2
import numpy as np
import torch

from kinema.ops.warp import Padding, backward_warp

#: DIS needs a few patches per side; smaller frames are padded (edge-replicated) to this.
_MIN_SIDE = 32


class DISPreset(enum.Enum):
    """OpenCV's DIS presets, fastest to most accurate."""

    ULTRAFAST = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
    FAST = cv2.DISOPTICAL_FLOW_PRESET_FAST
    MEDIUM = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def _gray_u8(image: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float RGB in [0, 1] → ``(H, W)`` uint8 luma (BT.601 weights)."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype, device=image.device)
    luma = (image * weights[:, None, None]).sum(0).clamp(0, 1).mul(255).round()
    return luma.to("cpu", torch.uint8).numpy()


def dis_flow(a: torch.Tensor, b: torch.Tensor, *, preset: DISPreset = DISPreset.MEDIUM) -> torch.Tensor:
    """Flow from ``a`` to ``b``, both ``(N, 3, H, W)`` in [0, 1] → ``(N, 2, H, W)`` pixels.

    Any size works, 1×1 included (small frames are edge-padded for DIS, then cropped).
    """
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 3:
        raise ValueError(f"expected two (N, 3, H, W) batches of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    n, _, height, width = a.shape
    pad_y, pad_x = max(0, _MIN_SIDE - height), max(0, _MIN_SIDE - width)
    dis = cv2.DISOpticalFlow_create(preset.value)
    flows = []
    for i in range(n):
        ga, gb = _gray_u8(a[i]), _gray_u8(b[i])
        if pad_y or pad_x:
            ga = np.pad(ga, ((0, pad_y), (0, pad_x)), mode="edge")
            gb = np.pad(gb, ((0, pad_y), (0, pad_x)), mode="edge")
        flow = dis.calc(ga, gb, None)[:height, :width]
        flows.append(torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1))
    return torch.stack(flows).to(device=a.device, dtype=a.dtype)


def bidirectional_flow(
    a: torch.Tensor, b: torch.Tensor, *, preset: DISPreset = DISPreset.MEDIUM
) -> tuple[torch.Tensor, torch.Tensor]:
    """(flow a→b, flow b→a), each ``(N, 2, H, W)``."""
    return dis_flow(a, b, preset=preset), dis_flow(b, a, preset=preset)


def consistency_mask(
    flow_ab: torch.Tensor, flow_ba: torch.Tensor, *, alpha1: float = 0.01, alpha2: float = 0.5
) -> torch.Tensor:
    """Where ``flow_ab`` is confirmed by ``flow_ba``: ``(N, 1, H, W)``, 1 = consistent.

    A pixel that is visible in both frames maps a→b→a back onto itself, so
    ``flow_ab(p) + flow_ba(p + flow_ab(p)) ≈ 0``. Where the round trip misses by more
    than ``alpha1 · (|f_ab|² + |f_ba|²) + alpha2`` (the test of Sundaram et al., 2010,
    looser for fast motion), the pixel is occluded in ``b`` or the flow is wrong.
    Samples that leave the frame count as inconsistent.
    """
    back = backward_warp(flow_ba, flow_ab, padding=Padding.BORDER)
    inside = backward_warp(torch.ones_like(flow_ab[:, :1]), flow_ab, padding=Padding.ZEROS) > 0.999
    miss = (flow_ab + back).pow(2).sum(1, keepdim=True)
    bound = alpha1 * (flow_ab.pow(2).sum(1, keepdim=True) + back.pow(2).sum(1, keepdim=True)) + alpha2
    return ((miss <= bound) & inside).to(flow_ab.dtype)
