"""Hole filling by push–pull (a normalized-convolution pyramid).

Known pixels are averaged down a pyramid until every level-``k`` cell has support, then
the coarse estimates are pulled back up into the holes only. Known pixels are never
changed, and a hole takes the values of its nearest known surroundings.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def push_pull_fill(values: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Fill ``values`` ``(N, C, H, W)`` where ``known`` ``(N, 1, H, W)`` (weights in [0, 1]) is 0.

    Returns ``(N, C, H, W)``: ``known · values + (1 − known) · estimate``. If nothing at
    all is known the result is zero.
    """
    if known.shape != (values.shape[0], 1, *values.shape[2:]):
        raise ValueError(f"known {tuple(known.shape)} does not match values {tuple(values.shape)}")
    known = known.clamp(0, 1)
    if bool((known == 1).all()):
        return values
    if values.shape[-1] <= 1 and values.shape[-2] <= 1:
        return values * known
    # Push: pool the weighted values and the weights together (2×2 sums, odd sizes padded).
    total = values * known
    weight = known
    coarse_total = F.avg_pool2d(total, 2, ceil_mode=True)
    coarse_weight = F.avg_pool2d(weight, 2, ceil_mode=True)
    coarse_mean = coarse_total / coarse_weight.clamp_min(1e-8)
    coarse_known = (coarse_weight * 4).clamp(0, 1)  # one known child of four is enough support
    coarse = push_pull_fill(coarse_mean, coarse_known)
    # Pull: upsample the filled coarse level and use it where this level is unknown.
    estimate = F.interpolate(coarse, size=values.shape[-2:], mode="bilinear", align_corners=False)
    return known * values + (1 - known) * estimate
