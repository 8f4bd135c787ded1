"""Resizing frames: the one place that decides how.

Flow estimation, scene tests and training data all work on frames whose longer side is
capped; they share the size rule and the (antialiased) filter here. Enlarging small
frames (super-resolution's starting point) is bicubic.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fit_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """``(h, w)`` scaled so the longer side is at most ``max_side`` (unchanged if it already
    fits or ``max_side`` is None); never below 1 pixel."""
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, C, height, width)``, bilinear with antialiasing (no-op if equal)."""
    if frames.shape[-2:] == (height, width):
        return frames
    return F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False, antialias=True)


def fit_within(frames: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """``frames`` shrunk so the longer side is at most ``max_side``."""
    return resize(frames, *fit_size(*frames.shape[-2:], max_side))


def bicubic(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, C, h, w)`` → ``(N, C, *size)``, bicubic, clamped to [0, 1] (bicubic overshoots).
    For enlarging: it does not antialias."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    return F.interpolate(frames, size=tuple(size), mode="bicubic", align_corners=False).clamp_(0, 1)
