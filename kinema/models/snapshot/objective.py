"""What a good snapshot is — the objective training minimizes over the networks and
:func:`refine` minimizes over one snapshot's pixels.

All terms are in 8-bit units (0–255) so the paper's weights (restoration 3, embedding 1,
perceptual 1) and its thresholded embedding loss keep their meaning:

* restoration — mean squared error of the k restored frames (paper eq. 2);
* embedding — ``mean(max(|E − I_mid|, θ))`` (eq. 3): differences below θ are free room
  for the motion texture;
* perceptual — the paper uses VGG-19 features, which cannot exist here (no pretrained
  weights). Its job is to keep the snapshot looking like the middle frame: sharp, same
  contrast, no visible pattern. :func:`laplacian_pyramid_l1` does that job: an L1
  Laplacian-pyramid distance whose coarser bands weigh more (2^level), so visible,
  low-frequency changes cost most and the finest band — where a pixel-level texture is
  least visible — costs least.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kinema.ops.codec import round_8bit


@dataclass(frozen=True)
class Objective:
    restoration: float = 3.0
    embedding: float = 1.0
    perceptual: float = 1.0
    #: θ of the embedding loss, in 8-bit levels.
    threshold: float = 6.0


def laplacian_pyramid_l1(a: torch.Tensor, b: torch.Tensor, levels: int = 4) -> torch.Tensor:
    """``Σ_l 2^l · mean|L_l(a) − L_l(b)|`` over a ``levels``-band Laplacian pyramid."""
    total = a.new_zeros(())
    diff = a - b  # the pyramid is linear: decompose the difference once
    for level in range(levels):
        if level == levels - 1 or min(diff.shape[-2:]) < 2:
            return total + 2**level * diff.abs().mean()
        coarse = F.avg_pool2d(diff, 2, ceil_mode=True)
        band = diff - F.interpolate(coarse, size=diff.shape[-2:], mode="bilinear", align_corners=False)
        total = total + 2**level * band.abs().mean()
        diff = coarse
    return total


def objective_terms(restored: torch.Tensor, clip: torch.Tensor, snapshot: torch.Tensor, middle: torch.Tensor, threshold: float) -> dict[str, torch.Tensor]:
    """The unweighted terms for restored frames and a clip ``(N, k, 3, H, W)`` and a
    snapshot and middle frame ``(N, 3, H, W)``, all in [0, 1]."""
    return {
        "restoration": ((restored - clip) * 255).square().mean(),
        "embedding": ((snapshot - middle).abs() * 255).clamp(min=threshold).mean(),
        "perceptual": laplacian_pyramid_l1(snapshot * 255, middle * 255),
    }


def weighted(terms: dict[str, torch.Tensor], objective: Objective) -> torch.Tensor:
    return sum(getattr(objective, name) * value for name, value in terms.items())


def refine(
    net,
    clip: torch.Tensor,
    snapshot: torch.Tensor,
    *,
    steps: int,
    lr: float = 0.5 / 255,
    objective: Objective = Objective(),
    channel: Callable[[torch.Tensor], torch.Tensor] = round_8bit,
) -> torch.Tensor:
    """Improve ``snapshot`` ``(N, 3, H, W)`` of ``clip`` ``(N, k, 3, H, W)`` for ``net``'s
    decoder by ``steps`` Adam steps on its pixels (the networks stay fixed).

    The embedder is a fast amortized guess; a few steps of direct optimization through
    the storage ``channel`` fit this clip better (the refined rows of
    ``docs/models/snapshot.md``). Returns the continuous
    snapshot; store it with :func:`kinema.ops.codec.round_8bit`.
    """
    middle = clip[:, net.config.middle]
    pixels = snapshot.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([pixels], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            terms = objective_terms(net.decode(channel(pixels)), clip, pixels, middle, objective.threshold)
            (grad,) = torch.autograd.grad(weighted(terms, objective), pixels)
            pixels.grad = grad
            opt.step()
            with torch.no_grad():
                pixels.clamp_(0, 1)
    return pixels.detach()
