"""Motion blur as a camera makes it: the light of a moving scene integrated while the
shutter is open; and the one Gaussian blur (:func:`gaussian_blur`).

Two ways to make blurry frames with exact sharp ground truth:

- :func:`integrate` renders a scene at many instants inside the exposure and averages
  them (a box shutter sampled at the midpoints of equal sub-intervals), for scenes that
  can be rendered at any time (:mod:`kinema.train.synthetic`).
- :class:`Shutter` turns a real clip into a slower, blurrier one by averaging runs of
  consecutive frames: blurry frame ``k`` is the mean of frames ``stride·k`` …
  ``stride·k + frames − 1``, its sharp centre is the middle one of them, and the sharp
  frame half-way to the next blurry frame is ``stride / 2`` after that centre.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def exposure_offsets(exposure: float, steps: int) -> list[float]:
    """Times, relative to the centre, at which :func:`integrate` samples a shutter open
    for ``exposure``: the midpoints of ``steps`` equal sub-intervals."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if exposure < 0:
        raise ValueError(f"exposure must be non-negative, got {exposure}")
    return [exposure * ((i + 0.5) / steps - 0.5) for i in range(steps)]


def integrate(render: Callable[[float], torch.Tensor], centre: float, exposure: float, steps: int) -> torch.Tensor:
    """The mean of ``render(s)`` over a shutter open from ``centre − exposure/2`` to
    ``centre + exposure/2``; ``render`` returns frames of any shape. With ``exposure`` 0
    (or one step) this is the sharp frame at ``centre``. A point moving at ``v`` pixels per
    unit time leaves a streak ``v·exposure`` pixels long."""
    if exposure == 0 or steps == 1:
        return render(centre)
    return torch.stack([render(centre + o) for o in exposure_offsets(exposure, steps)]).mean(0)


@dataclass(frozen=True)
class Shutter:
    """A slower camera simulated from a real clip: one blurry frame every ``stride``
    source frames, each the mean of ``frames`` consecutive ones (exposure
    ``frames / stride`` of the frame interval). ``frames`` is odd, so the sharp centre is a
    source frame; ``stride`` even gives a sharp source frame half-way between two blurry ones."""

    stride: int
    frames: int

    def __post_init__(self):
        if self.frames < 1 or self.frames % 2 == 0:
            raise ValueError(f"frames must be odd and positive, got {self.frames}")
        if self.stride < self.frames:
            raise ValueError(f"the shutter cannot stay open longer than the frame interval ({self.frames} > {self.stride})")

    @property
    def exposure(self) -> float:
        return self.frames / self.stride

    def count(self, length: int) -> int:
        """How many blurry frames a clip of ``length`` source frames gives."""
        return 0 if length < self.frames else (length - self.frames) // self.stride + 1

    def span(self, k: int) -> range:
        """Source frames averaged into blurry frame ``k``."""
        return range(self.stride * k, self.stride * k + self.frames)

    def centre(self, k: int) -> int:
        """The source frame at the middle of blurry frame ``k``'s exposure."""
        return self.stride * k + self.frames // 2

    def between(self, k: int) -> int | None:
        """The source frame half-way between blurry frames ``k`` and ``k + 1`` (None for an
        odd stride: it falls between two source frames)."""
        return None if self.stride % 2 else self.centre(k) + self.stride // 2

    def blur(self, frames: Sequence[torch.Tensor], k: int) -> torch.Tensor:
        """Blurry frame ``k`` of a clip given as a sequence of same-shaped frames (uint8 or
        float; the mean is float, in the frames' own scale)."""
        return torch.stack([frames[i].float() for i in self.span(k)]).mean(0)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """``images`` ``(N, C, H, W)`` blurred by a Gaussian of ``sigma`` pixels: separable,
    radius ⌈3σ⌉ (at least 1), edges repeated; same shape and dtype."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    out = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
