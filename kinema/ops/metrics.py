"""Image quality metrics on the 8-bit RGB scale (peak 255), as papers report them, the
IoU of label maps, and precision / recall of detected shot transitions.

PSNR and SSIM quantize their inputs to 8 bits first, so a score measures what a user
would see in a saved PNG rather than sub-quantum float differences.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _to_u8_float(frames: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` in [0, 1] → float64 on the 0..255 integer grid."""
    if frames.dim() != 4:
        raise ValueError(f"expected (N, C, H, W), got {tuple(frames.shape)}")
    return frames.detach().to(torch.float64).clamp(0, 1).mul(255).round()


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB, ``(N,)``, over all RGB pixels at peak 255.

    Identical images score ``inf``; average per-image values (as the benchmarks do),
    not the pixels of a whole set, so that each triplet counts once.
    """
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    mse = (_to_u8_float(pred) - _to_u8_float(target)).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(255.0**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g


def _ssim_maps(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ssim, cs)`` per image and channel ``(N, C)``: SSIM and its contrast–structure
    term, averaged over 'valid' windows; inputs on the 0..255 scale (float64)."""
    n, c, h, w = x.shape
    size = min(11, h, w)
    g = _gaussian_window(size, 1.5 if size == 11 else max(size / 7.33, 0.5))
    # Separable Gaussian: rows then columns, one depthwise conv each.
    kx = g.view(1, 1, 1, size).repeat(c, 1, 1, 1)
    ky = g.view(1, 1, size, 1).repeat(c, 1, 1, 1)

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(z, kx, groups=c), ky, groups=c)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    luminance = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return (luminance * cs).flatten(2).mean(2), cs.flatten(2).mean(2)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM ``(N,)`` (Wang et al. 2004: 11×11 Gaussian, σ=1.5, K1=0.01, K2=0.03).

    Computed per RGB channel on the 0..255 scale and averaged over channels; the window
    is applied with 'valid' borders. Images smaller than the window use a window the size
    of the image, so tiny frames still get a score.
    """
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    return _ssim_maps(_to_u8_float(pred), _to_u8_float(target))[0].mean(1)


#: The five scales' exponents of MS-SSIM (Wang, Simoncelli and Bovik 2003).
_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image multi-scale SSIM ``(N,)``: contrast–structure at four scales and SSIM at
    the fifth (each halving by 2×2 means), per RGB channel, then averaged over channels.
    Negative terms count as 0. Needs the shorter side ≥ 176 px (the 11-px window at 1/16)."""
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if min(pred.shape[-2:]) < 11 * 2 ** (len(_MS_WEIGHTS) - 1):
        raise ValueError(f"MS-SSIM needs images of at least 176 px a side, got {tuple(pred.shape[-2:])}")
    x, y = _to_u8_float(pred), _to_u8_float(target)
    score = torch.ones(x.shape[:2], dtype=torch.float64)
    for scale, weight in enumerate(_MS_WEIGHTS):
        whole, cs = _ssim_maps(x, y)
        last = scale == len(_MS_WEIGHTS) - 1
        score = score * (whole if last else cs).clamp_min(0) ** weight
        if not last:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return score.mean(1)


def mean_finite(values: list[float]) -> float:
    """Mean of per-image scores, with ``inf`` (identical images) capped at 100 dB."""
    if not values:
        return math.nan
    return sum(min(v, 100.0) for v in values) / len(values)


def label_iou(pred: torch.Tensor, truth: torch.Tensor, labels: int, *, skip_background: bool = True) -> list[float]:
    """Intersection over union of each label of ``pred`` and ``truth`` (label maps
    ``(H, W)`` of integers ``0 … labels−1``); label 0, the background, skipped unless asked.
    A label absent from both (out of view, hidden) has no IoU and is left out."""
    out = []
    for k in range(1 if skip_background else 0, labels):
        a, b = pred == k, truth == k
        union = int((a | b).sum())
        if union:
            out.append(int((a & b).sum()) / union)
    return out


def transition_counts(found, truth: list[tuple[str, int, int]], *, tolerance: int = 1) -> dict[str, int]:
    """True/false positives and misses for cuts and for gradual transitions: ``found``
    are detections as ``(kind, first, last)`` or anything with those fields (kinema's
    ``Transition``), ``truth`` the labelled events; kind "cut" or any gradual kind.

    A cut is found when a detected cut lies within ``tolerance`` frames of it. A gradual
    transition (first..last) is found by any detection, of any kind, overlapping
    first − 1 .. last + 1 (a detector that reports only cuts gets credit for a cut inside
    a dissolve). Each detection counts once; the rest are false positives of their kind.
    """
    events = [t if isinstance(t, tuple) else (t.kind, t.first, t.last) for t in found]
    counts = dict(cut_tp=0, cut_fp=0, cut_fn=0, gradual_tp=0, gradual_fp=0, gradual_fn=0)
    used: set[int] = set()
    for kind, first, last in truth:
        if kind != "cut":
            continue
        best = min(((abs(e[1] - first), i) for i, e in enumerate(events) if e[0] == "cut" and i not in used), default=None)
        if best is not None and best[0] <= tolerance:
            used.add(best[1])
            counts["cut_tp"] += 1
        else:
            counts["cut_fn"] += 1
    for kind, first, last in truth:
        if kind == "cut":
            continue
        hits = [i for i, e in enumerate(events) if i not in used and e[1] <= last + 1 and e[2] >= first - 1]
        if hits:
            used.add(hits[0])
            counts["gradual_tp"] += 1
        else:
            counts["gradual_fn"] += 1
    for i, e in enumerate(events):
        if i not in used:
            counts["cut_fp" if e[0] == "cut" else "gradual_fp"] += 1
    return counts


def precision_recall_f1(counts: dict[str, int], kind: str) -> tuple[float, float, float]:
    """``(precision, recall, F1)`` of ``kind`` ("cut" or "gradual") from :func:`transition_counts` sums."""
    tp, fp, fn = counts[f"{kind}_tp"], counts[f"{kind}_fp"], counts[f"{kind}_fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)
