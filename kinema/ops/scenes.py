"""Telling a scene cut and a repeated frame from motion, for the retiming pipeline.

A cut replaces the picture: the colour distribution jumps, and no motion explains the
second frame from the first. Fast motion also shifts histograms (a whip pan scores as high
as a soft cut), so a histogram jump only nominates a pair; the cut is confirmed when
the second frame, warped back by its optical flow, still differs from the first.
On the clips in ../shared/data, cuts leave a motion-compensated error ≥ 0.16 and
in-shot motion ≤ 0.08 (mean |Δ| in [0, 1] units). A repeated frame (animation "on
twos", screen captures, telecine) differs from its predecessor only by codec noise.
Both tests run on small thumbnails: they are called for every pair of a video.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kinema.ops.flow import DISPreset, dis_flow
from kinema.ops.resize import fit_size
from kinema.ops.warp import backward_warp

#: Thumbnails for the tests: long side of at most this many pixels.
_THUMB = 128
_BINS = 16


def thumbnail(frames: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` → the small copy the tests compare. Every test here takes
    thumbnails in place of frames (they are returned as they are), so a caller that
    tests each frame twice can make its thumbnail once."""
    size = fit_size(*frames.shape[-2:], _THUMB)
    # Area averaging (not the shared antialiased resize): the thresholds were measured with it.
    return frames if size == tuple(frames.shape[-2:]) else F.interpolate(frames, size=size, mode="area")


def _histograms(frames: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` → ``(N, 3, BINS)`` per-channel histograms summing to 1."""
    n, c = frames.shape[:2]
    bins = (frames.clamp(0, 1) * (_BINS - 1e-4)).long().flatten(2)  # (N, 3, HW)
    counts = torch.zeros(n, c, _BINS, dtype=frames.dtype, device=frames.device)
    counts.scatter_add_(2, bins, torch.ones_like(bins, dtype=frames.dtype))
    return counts / bins.shape[-1]


def cut_score(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """How much the colour distribution changes from ``a`` to ``b`` (each ``(N, 3, H, W)``).

    Returns ``(N,)`` in [0, 1]: half the L1 distance between per-channel histograms,
    averaged over channels. Motion within one shot scores ~0.05–0.2; cuts score higher.
    """
    ha, hb = _histograms(thumbnail(a)), _histograms(thumbnail(b))
    return 0.5 * (ha - hb).abs().sum(-1).mean(-1)


def difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the thumbnails, ``(N,)`` in [0, 1] units."""
    return (thumbnail(a) - thumbnail(b)).abs().flatten(1).mean(1)


def motion_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean |a − b warped onto a by DIS flow| on thumbnails, ``(N,)``."""
    ta, tb = thumbnail(a), thumbnail(b)
    flow = dis_flow(ta, tb, preset=DISPreset.MEDIUM)
    return (ta - backward_warp(tb, flow)).abs().flatten(1).mean(1)


def is_cut(
    a: torch.Tensor, b: torch.Tensor, *, histogram_threshold: float = 0.1, motion_threshold: float = 0.1
) -> torch.Tensor:
    """``(N,)`` bool: a hard cut between ``a`` and ``b`` (each ``(N, 3, H, W)``)."""
    cut = cut_score(a, b) > histogram_threshold
    if bool(cut.any()):
        cut[cut.clone()] = motion_error(a[cut], b[cut]) > motion_threshold
    return cut


def is_repeat(a: torch.Tensor, b: torch.Tensor, *, tolerance: float = 1.5 / 255) -> torch.Tensor:
    """``(N,)`` bool: ``b`` repeats ``a`` up to compression noise (mean |Δ| ≤ tolerance)."""
    return difference(a, b) <= tolerance
