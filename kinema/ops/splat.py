"""Forward splatting: push each source pixel along its flow and add it up where it lands.

The counterpart of :func:`kinema.ops.warp.backward_warp`. Backward warping needs the flow
*at the target*; splatting only needs it at the source, which is what we have when the
target is an in-between time. Each source pixel at ``p`` lands at ``p + flow(p)`` and is
shared among the four nearest target pixels with bilinear weights, scaled by a per-pixel
importance the caller multiplies in (a z-order: where several pixels collide, the
heavier wins).
"""

from __future__ import annotations

import torch

from kinema.ops.warp import base_grid


def forward_splat(values: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sum of ``values`` ``(N, C, H, W)`` pushed along ``flow`` ``(N, 2, H, W)`` (pixels).

    Returns ``(N, C, H, W)``. Samples that land outside the frame are dropped. To get a
    weighted mean, splat ``[w·v, w]`` together and divide; to measure how much landed on
    each pixel (1 under uniform motion, 0 in a hole), splat ones.
    """
    n, c, height, width = values.shape
    if flow.shape != (n, 2, height, width):
        raise ValueError(f"values {tuple(values.shape)} and flow {tuple(flow.shape)} do not match")
    target = base_grid(height, width, device=flow.device, dtype=flow.dtype) + flow
    tx, ty = target[:, 0], target[:, 1]
    x0, y0 = tx.floor(), ty.floor()
    fx, fy = tx - x0, ty - y0
    payload = values.flatten(2)  # (N, C, H*W)
    total = torch.zeros(n, c, height * width, device=values.device, dtype=values.dtype)
    for dx, dy, bilinear in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        cx, cy = x0 + dx, y0 + dy
        inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
        index = (cy.clamp(0, height - 1) * width + cx.clamp(0, width - 1)).long().flatten(1)  # (N, H*W)
        share = (bilinear * inside).flatten(1).to(values.dtype)[:, None]  # (N, 1, H*W)
        total.scatter_add_(2, index[:, None].expand(-1, c, -1), payload * share)
    return total.view(n, c, height, width)
