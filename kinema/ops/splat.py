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
    # Each axis's two bilinear weights, zero where that neighbour is outside the frame:
    # a tap's share is one x factor times one y factor (the product is the same as
    # weighting first and masking after, since the masks are 0 or 1).
    along_x = ((1 - fx) * ((x0 >= 0) & (x0 < width)), fx * ((x0 >= -1) & (x0 < width - 1)))
    along_y = ((1 - fy) * ((y0 >= 0) & (y0 < height)), fy * ((y0 >= -1) & (y0 < height - 1)))
    corner = (y0 * width + x0).long()
    payload = values.flatten(2)  # (N, C, H*W)
    total = torch.zeros(n, c, height * width, device=values.device, dtype=values.dtype)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        # Outside the frame the share is 0, so any index in range will do.
        index = (corner + (dy * width + dx)).clamp_(0, height * width - 1).flatten(1)  # (N, H*W)
        share = (along_x[dx] * along_y[dy]).flatten(1).to(values.dtype)[:, None]  # (N, 1, H*W)
        total.scatter_add_(2, index[:, None].expand(-1, c, -1), payload * share)
    return total.view(n, c, height, width)
