"""Optical flow between two frames (OpenCV DIS) and forward–backward consistency.

``dis_flow(a, b)`` returns the flow *from a to b*: ``a[p] ≈ b[p + flow(p)]``, so
``backward_warp(b, flow)`` reconstructs ``a`` (see :mod:`kinema.ops.warp`).
DIS runs on 8-bit grey images on the CPU; tensors are moved there and back.
"""

from __future__ import annotations

import enum
import functools

import cv2
import numpy as np
import torch

from kinema.ops.resize import bilinear

#: DIS needs a few patches per side; smaller frames are padded (edge-replicated) to this.
_MIN_SIDE = 32


class DISPreset(enum.Enum):
    """OpenCV's DIS presets, fastest to most accurate."""

    ULTRAFAST = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
    FAST = cv2.DISOPTICAL_FLOW_PRESET_FAST
    MEDIUM = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


@functools.cache
def dis_finest_scale(preset: DISPreset, finest_scale: int | None = None) -> int:
    """The pyramid level DIS stops at (0: full resolution): ``finest_scale``, or the
    preset's own (OpenCV's presets stop at 1 or 2 and upsample the flow they return)."""
    return finest_scale if finest_scale is not None else cv2.DISOpticalFlow_create(preset.value).getFinestScale()


def luma(frames: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB → ``(N, 1, H, W)`` luma (BT.601 weights); grey passes through."""
    if frames.shape[1] == 1:
        return frames
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=frames.dtype, device=frames.device)
    return torch.einsum("nchw,c->nhw", frames, weights)[:, None]  # no (N, 3, H, W) temporary


def _gray_u8(image: torch.Tensor) -> np.ndarray:
    """``(C, H, W)`` float RGB or grey in [0, 1] → ``(H, W)`` uint8 luma."""
    return luma(image[None])[0, 0].clamp(0, 1).mul(255).round().to("cpu", torch.uint8).numpy()


def _dis_pair(
    ga: np.ndarray, gb: np.ndarray, preset: DISPreset, init: np.ndarray | None, finest_scale: int | None
) -> np.ndarray:
    height, width = ga.shape
    pad_y, pad_x = max(0, _MIN_SIDE - height), max(0, _MIN_SIDE - width)
    if pad_y or pad_x:
        ga = np.pad(ga, ((0, pad_y), (0, pad_x)), mode="edge")
        gb = np.pad(gb, ((0, pad_y), (0, pad_x)), mode="edge")
        if init is not None:
            init = np.pad(init, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
    # A fresh DIS object per call: OpenCV 5's DIS crashes when one object that was given
    # an initial flow is reused on another frame size.
    dis = cv2.DISOpticalFlow_create(preset.value)
    if finest_scale is not None:
        dis.setFinestScale(finest_scale)
    flow = dis.calc(ga, gb, None if init is None else np.ascontiguousarray(init, dtype=np.float32))
    return np.ascontiguousarray(flow[:height, :width])


def dis_flow(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    preset: DISPreset = DISPreset.MEDIUM,
    init: torch.Tensor | None = None,
    finest_scale: int | None = None,
) -> torch.Tensor:
    """Flow from ``a`` to ``b``, both ``(N, 3, H, W)`` (or grey ``(N, 1, H, W)``) in [0, 1]
    → ``(N, 2, H, W)`` pixels.

    ``init`` ``(N, 2, H, W)``, if given, is DIS's starting point (it refines from it
    instead of from zero at its coarsest level). ``finest_scale`` overrides the preset's
    last pyramid level (0 = full resolution; the presets stop at 1/2 or 1/4 and upsample,
    which is faster but softer at motion boundaries). Any size works, 1×1 included (small
    frames are edge-padded for DIS, then cropped).
    """
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"expected two (N, 3, H, W) or (N, 1, H, W) batches of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if init is not None and init.shape != (a.shape[0], 2, *a.shape[2:]):
        raise ValueError(f"init flow {tuple(init.shape)} does not match frames {tuple(a.shape)}")
    flows = []
    for i in range(a.shape[0]):
        start = None if init is None else init[i].permute(1, 2, 0).to("cpu", torch.float32).numpy()
        flow = _dis_pair(_gray_u8(a[i]), _gray_u8(b[i]), preset, start, finest_scale)
        flows.append(torch.from_numpy(flow).permute(2, 0, 1))
    return torch.stack(flows).to(device=a.device, dtype=a.dtype)


def resize_flow(flow: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resample a flow field ``(N, 2k, h, w)`` (k flows stacked) to ``(N, 2k, height, width)``.

    Vectors are rescaled with the image: a 3-pixel motion at half size is 6 at full size.
    """
    if flow.shape[-2:] == (height, width):
        return flow
    scale = torch.tensor([width / flow.shape[-1], height / flow.shape[-2]], dtype=flow.dtype, device=flow.device)
    # Resampling is linear, so the vectors are scaled at the smaller of the two sizes.
    scale = scale.repeat(flow.shape[1] // 2).view(1, -1, 1, 1)
    if height * width > flow.shape[-2] * flow.shape[-1]:
        return bilinear(flow * scale, height, width)
    return bilinear(flow, height, width) * scale
