"""A learned path between two latent codes of one video's autoencoder (after Chen et al.,
*Learning a minimizing geodesic*, arXiv:2002.12259): an interpolation network.

``z(t) = (1 − t)·z_a + t·z_b + t·(1 − t)·h(z_a, z_b, t)``

The straight line plus a bend ``h`` that vanishes at both ends, so the path always starts
at ``z_a`` and ends at ``z_b`` whatever the network learned. ``h`` is a few 3×3
convolutions on the latent grid (the codes of :class:`kinema.models.video_ae.VideoAE`
are maps of ``C × ceil(H/64) × ceil(W/64)``), fed both codes, their difference and t.
How it is trained (a decoded-path energy and constant-speed loss, as the paper's
minimizing-geodesic and constant-speed losses, plus the video's own in-between frames):
:mod:`kinema.train.latent_path`.

Shapes: codes ``(N, C, h, w)``; ``t`` ``(N,)`` in [0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from kinema.models.checkpoint import Checkpointed, ConfigDict

ARCH = "kinema.latent_path.v1"


@dataclass(frozen=True)
class LatentPathConfig(ConfigDict):
    #: Channels of the codes (the autoencoder's latent channels).
    channels: int = 192
    #: Channels of the bend network's hidden layers.
    hidden: int = 96
    #: Hidden 3×3 convolutions.
    layers: int = 3

    def __post_init__(self):
        if self.channels < 1 or self.hidden < 1 or self.layers < 1:
            raise ValueError("channels, hidden and layers must be ≥ 1")

    @classmethod
    def tiny(cls, **changes) -> LatentPathConfig:
        """For tests: a 32-channel latent, 16 hidden channels, 2 layers."""
        return dataclasses.replace(cls(channels=32, hidden=16, layers=2), **changes)


class LatentPath(Checkpointed, nn.Module):
    """``path(z_a, z_b, t)``: the code at time ``t`` on the learned path from ``z_a`` to ``z_b``."""

    arch = ARCH
    config_class = LatentPathConfig

    def __init__(self, config: LatentPathConfig = LatentPathConfig()):
        super().__init__()
        self.config = config
        layers, width = [], 3 * config.channels + 1
        for _ in range(config.layers):
            layers += [nn.Conv2d(width, config.hidden, 3, padding=1), nn.ReLU(inplace=True)]
            width = config.hidden
        layers.append(nn.Conv2d(width, config.channels, 3, padding=1))
        self.bend = nn.Sequential(*layers)
        # Untrained, the path is the straight line: what latent interpolation already does.
        nn.init.zeros_(self.bend[-1].weight)
        nn.init.zeros_(self.bend[-1].bias)

    def forward(self, za: torch.Tensor, zb: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if za.shape != zb.shape or za.shape[1] != self.config.channels:
            raise ValueError(f"codes of {self.config.channels} channels and the same shape expected, got {tuple(za.shape)} and {tuple(zb.shape)}")
        t = t.to(za.dtype).view(-1, 1, 1, 1)
        scale = za.abs().mean((1, 2, 3), keepdim=True).clamp_min(1e-6)  # the bend works on codes of unit size
        features = torch.cat([za / scale, zb / scale, (zb - za) / scale, t.expand(-1, 1, *za.shape[-2:])], 1)
        line = torch.lerp(za, zb, t)
        # Codes come out of a ReLU: the path stays where the decoder was trained.
        return (line + t * (1 - t) * scale * self.bend(features)).clamp_min(0)
