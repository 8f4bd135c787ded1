"""Conversions between stored pixel arrays and kinema's float images.

Every reader and writer goes through these functions, so that the integer ↔ float
mapping is defined once: ``value / (2**bits - 1)`` on the way in, round-to-nearest on
the way out. float32 holds every 8- and 16-bit code exactly, so a lossless format
round-trips bit for bit. The arithmetic is numpy's (torch's float32 division, products
and rounding give the same bits, which the tests check), so that a file-to-file job such
as ``convert`` needs no torch at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    import torch


def _scale(array: np.ndarray) -> float:
    if array.dtype == np.uint8:
        return 255.0
    if array.dtype == np.uint16:
        return 65535.0
    raise TypeError(f"expected uint8 or uint16 pixels, got {array.dtype}")


def as_hwc(array: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` → ``(H, W, C)`` with C in 1..4 (gray, gray+alpha, RGB, RGBA)."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected 1-4 channels, got shape {array.shape}")
    return array


def has_alpha(array: np.ndarray) -> bool:
    """Whether a stored ``(H, W[, C])`` array carries an alpha channel (gray+alpha or RGBA)."""
    return array.ndim == 3 and array.shape[2] in (2, 4)


def float_planes(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(H, W)``, ``(H, W, 1|2|3|4)`` uint8/uint16 → (color ``(3, H, W)``, alpha ``(1, H, W)`` or None),
    float32 in [0, 1]."""
    scale = _scale(array)
    array = as_hwc(array)
    channels = array.shape[2]
    # Planes first while the samples are still 1-2 bytes, then one float copy divided in
    # place: a 4:1 8K frame is 177 MB as float32, and each extra copy shows in peak memory.
    data = np.ascontiguousarray(array.transpose(2, 0, 1)).astype(np.float32)
    data /= np.float32(scale)
    color = data[:3] if channels >= 3 else np.repeat(data[:1], 3, axis=0)
    alpha = data[channels - 1 :] if channels in (2, 4) else None
    return color, alpha


def from_hwc(array: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(H, W)``, ``(H, W, 1|2|3|4)`` uint8/uint16 RGB(A) or gray(A) → (image, alpha).

    Returns image ``(3, H, W)`` float32 in [0, 1] and alpha ``(1, H, W)`` or None.
    """
    import torch  # loaded by the first model-bound frame, not by importing kinema.io

    color, alpha = float_planes(array)
    return torch.from_numpy(color), None if alpha is None else torch.from_numpy(alpha)


def round_samples(planes: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """Float planes ``(C, H, W)`` in [0, 1] → ``(H, W, C)`` uint8/uint16, rounded to nearest."""
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    peak = np.float32(255.0 if bit_depth == 8 else 65535.0)
    data = np.clip(planes, 0.0, 1.0, dtype=np.float32)  # a new array: the caller's is never changed
    data *= peak
    np.rint(data, out=data)
    samples = [plane.astype(np.uint8 if bit_depth == 8 else np.uint16) for plane in data]
    # Interleaving the narrow planes (cv2.merge) is a fraction of the time numpy's strided
    # float-to-integer copy of the transposed array takes; the values are the same.
    return cv2.merge(samples) if len(samples) > 1 else samples[0][:, :, None]


def to_hwc(image: torch.Tensor, alpha: torch.Tensor | None = None, *, bit_depth: int = 8) -> np.ndarray:
    """image ``(3, H, W)`` [+ alpha ``(1, H, W)``] in [0, 1] → ``(H, W, 3|4)`` uint8/uint16."""
    import torch

    planes = image if alpha is None else torch.cat([image, alpha], dim=0)
    return round_samples(planes.detach().to("cpu", torch.float32).numpy(), bit_depth)


def flatten(image, alpha, background: float = 0.0):
    """Composite straight alpha over a flat background, for outputs that cannot store alpha.

    Works on tensors and on numpy arrays alike (the same float32 operations).
    """
    if alpha is None:
        return image
    return image * alpha + background * (1.0 - alpha)


def stored_as(array: np.ndarray, *, bit_depth: int, alpha: bool, background: float = 0.0) -> np.ndarray:
    """A stored array as a writer wants it: ``(H, W, 4)`` with alpha (opaque where the source
    has none), else ``(H, W, 3)`` flattened over ``background``; at ``bit_depth``.

    Equal, bit for bit, to decoding to float and quantizing again, but where nothing
    changes (the usual ``convert``) the samples are copied without a float pass.
    """
    array = as_hwc(array)
    depth = 8 if array.dtype == np.uint8 else 16
    source_alpha = has_alpha(array)
    if depth == bit_depth and (alpha or not source_alpha):
        gray = array.shape[2] <= 2
        color = np.repeat(array[:, :, :1], 3, axis=2) if gray else array[:, :, :3]
        if not alpha:
            return np.ascontiguousarray(color)
        plane = array[:, :, -1:] if source_alpha else np.full_like(array[:, :, :1], _scale(array))
        return np.concatenate([color, plane], axis=2)
    color, plane = float_planes(array)
    if alpha:
        plane = np.ones_like(color[:1]) if plane is None else plane
        return round_samples(np.concatenate([color, plane], axis=0), bit_depth)
    return round_samples(flatten(color, plane, background), bit_depth)
