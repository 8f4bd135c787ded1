"""``pair``: the frames between two still images, at chosen times."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from kinema.engines.base import Engine, check_times
from kinema.io.atomic import check_output
from kinema.io.images import IMAGE_SUFFIXES, read_image, write_image
from kinema.io.pixels import from_hwc
from kinema.types import BadInputError, KinemaError


def load_pair(first: Path, second: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]:
    """Two images → ``(a, b, alpha_a, alpha_b, bit_depth)``; images ``(1, 3, H, W)``."""
    arrays = [read_image(Path(p)) for p in (first, second)]
    if arrays[0].shape[:2] != arrays[1].shape[:2]:
        (h0, w0), (h1, w1) = arrays[0].shape[:2], arrays[1].shape[:2]
        raise BadInputError(f"{first} is {w0}x{h0} but {second} is {w1}x{h1}: the two frames must be the same size")
    (a, alpha_a), (b, alpha_b) = (from_hwc(x) for x in arrays)
    bits = 16 if any(x.dtype.itemsize == 2 for x in arrays) else 8
    if (alpha_a is None) != (alpha_b is None):
        # One has alpha, the other not: treat the missing one as opaque.
        alpha_a = torch.ones_like(a[:1]) if alpha_a is None else alpha_a
        alpha_b = torch.ones_like(b[:1]) if alpha_b is None else alpha_b
    return a[None], b[None], alpha_a, alpha_b, bits


def output_paths(output: Path, first: Path, times: Sequence[float]) -> list[Path]:
    """One file per time: ``output`` itself for one time, else files in the folder ``output``."""
    output = Path(output)
    if len(times) == 1 and output.suffix.lower() in IMAGE_SUFFIXES:
        return [output]
    if output.suffix and len(times) == 1:
        allowed = ", ".join(sorted(IMAGE_SUFFIXES))
        raise KinemaError(f"{output}: one frame is written as an image ({allowed}), or into a folder")
    if output.suffix:
        raise KinemaError(f"{output}: with several times, -o must be a folder (one PNG per time)")
    return [output / f"{Path(first).stem}_t{t:.4f}.png" for t in times]


def interpolate_pair(
    first: Path,
    second: Path,
    times: Sequence[float],
    output: Path,
    *,
    engine: Engine,
    device: torch.device | str = "cpu",
    overwrite: bool = False,
) -> list[Path]:
    """Write the frames at ``times`` (each in [0, 1]) between two images; returns the paths.

    Alpha, if present, is cross-faded (the engines see RGB only).
    """
    try:
        times = check_times(times)
    except ValueError as exc:
        raise KinemaError(str(exc)) from None
    paths = output_paths(output, first, times)
    for path in paths:
        check_output(path, overwrite=overwrite, inputs=(Path(first), Path(second)))
    a, b, alpha_a, alpha_b, bits = load_pair(first, second)
    with torch.inference_mode():
        frames = engine.interpolate(a.to(device), b.to(device), times)[0].to("cpu", torch.float32)
    if paths[0] != Path(output):  # a folder of frames
        Path(output).mkdir(parents=True, exist_ok=True)
    written = []
    for t, frame, path in zip(times, frames, paths):
        alpha = None if alpha_a is None else torch.lerp(alpha_a, alpha_b, t)
        written.append(write_image(path, frame, alpha, bit_depth=bits, overwrite=overwrite))
    return written
