"""The benchmark triplets in ``../shared/data`` (see its README): two inputs and the
ground-truth frame halfway between them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.io.images import read_image
from kinema.io.pixels import from_hwc

#: set name → (first input, ground truth, second input) file names.
SETS: dict[str, tuple[str, str, str]] = {
    "middlebury": ("frame10.png", "frame10i11.png", "frame11.png"),
    "ucf101": ("im1.png", "gt.png", "im3.png"),
    "davis": ("im1.png", "gt.png", "im3.png"),
}


@dataclass(frozen=True)
class Triplet:
    set: str
    name: str
    a: torch.Tensor  # (1, 3, H, W)
    truth: torch.Tensor
    b: torch.Tensor


def triplet_dirs(data: Path, name: str) -> list[Path]:
    root = data / name
    if not root.is_dir():
        raise SystemExit(f"benchmark set {name!r} not found at {root} (pass --data)")
    first = SETS[name][0]
    dirs = sorted((d for d in root.iterdir() if (d / first).is_file()), key=lambda d: (len(d.name), d.name))
    if not dirs:
        raise SystemExit(f"no triplets in {root}")
    return dirs


def load_triplets(data: Path, name: str, limit: int | None = None) -> Iterator[Triplet]:
    """Triplets of one set, in a stable order, as ``(1, 3, H, W)`` float tensors."""
    files = SETS[name]
    for folder in triplet_dirs(data, name)[:limit]:
        a, truth, b = (from_hwc(read_image(folder / f))[0][None] for f in files)
        yield Triplet(name, folder.name, a, truth, b)
