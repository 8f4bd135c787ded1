"""Motion-aligned fusion of neighbouring frames: the time axis of GIF restoration.

Neighbouring GIF frames show the same content quantized differently (per-frame palettes
shift, dither noise moves), so after each frame is restored on its own the errors of
neighbours are partly independent. Each neighbour is warped onto the centre frame along
the DIS flow between the restored frames (:func:`kinema.ops.flow.dis_flow`, the one
backward warp :func:`kinema.ops.warp.backward_warp`) and averaged in, per pixel, with a
weight that falls off with its colour difference from the centre (σ): where the flow is
wrong or the content occluded, a neighbour differs and counts for little.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from kinema.ops.flow import dis_flow
from kinema.ops.warp import backward_warp

#: Colour difference (RGB distance, [0, 1] units) at which a neighbour's weight is e^−½.
SIGMA = 0.03


def fuse_neighbours(centre: torch.Tensor, neighbours: Sequence[torch.Tensor], *, sigma: float = SIGMA) -> torch.Tensor:
    """``centre`` ``(3, H, W)`` and its ``neighbours`` (same shape) → the fused ``(3, H, W)``.

    The centre has weight 1; each aligned neighbour ``exp(−‖n − c‖² / 2σ²)`` per pixel.
    Without neighbours: the centre itself.
    """
    if not neighbours:
        return centre
    total, weight = centre.clone(), torch.ones_like(centre[:1])
    for other in neighbours:
        aligned = backward_warp(other[None], dis_flow(centre[None], other[None]))[0]
        w = torch.exp(-(aligned - centre).square().sum(0, keepdim=True) / (2 * sigma**2))
        total += w * aligned
        weight += w
    return total / weight
