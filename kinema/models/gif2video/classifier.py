"""How was a GIF made — no dithering, error diffusion or ordered dithering? A small
convolutional classifier (GIF2Video §6.1.1, there with two classes).

Floyd–Steinberg dithering leaves a noise-like pattern of isolated palette colours; a
non-dithered GIF has flat regions with clean edges. The difference is plainest in the
image gradients, so the network sees the frame and its horizontal and vertical
differences (9 channels, as in the paper), and pooling over all places turns its map into
one logit per class: the mean, or log-mean-exp (:class:`DitherConfig` ``pooling``), which
lets the few smooth places where faint dithering shows decide. :class:`GifKind` order
with ``config.classes`` 3, or a single logit (positive: dithered) with 1, as the first
shipped file has it. The differences pass through ``tanh(255·d / 4)``: at 256 colours a
dither step is one or two 8-bit levels, which raw differences (≈ 0.004) would leave far
below everything else the network sees. Ordered dithering is a fixed tiling of
thresholds (a regular, periodic texture); error diffusion is irregular. Shapes:
``(N, 3, H, W)`` in [0, 1] → ``(N, classes)`` logits (``(N,)`` with one class).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.gif2video.config import DitherConfig

ARCH = "kinema.dither.v1"


def with_gradients(frames: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` → ``(N, 9, H, W)``: the frame, then its x and y forward differences
    (squashed: one 8-bit level ≈ 0.24, four or more ≈ 1)."""
    dx = F.pad(frames[..., :, 1:] - frames[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(frames[..., 1:, :] - frames[..., :-1, :], (0, 0, 0, 1))
    return torch.cat([frames, torch.tanh(dx * 255 / 4), torch.tanh(dy * 255 / 4)], 1)


class DitherNet(Checkpointed, nn.Module):
    """See the module docstring."""

    arch = ARCH
    config_class = DitherConfig

    def __init__(self, config: DitherConfig = DitherConfig()):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        cin = 9
        for i, width in enumerate(config.widths):
            layers += [nn.Conv2d(cin, width, 3, 1 if i == 0 else 2, 1), nn.LeakyReLU(0.2)]
            cin = width
        layers.append(nn.Conv2d(cin, config.classes, 3, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        places = self.body(with_gradients(frames)).flatten(2)
        if self.config.pooling == "mean":
            logits = places.mean(-1)
        else:
            logits = torch.logsumexp(places, -1) - math.log(places.shape[-1])
        return logits[:, 0] if self.config.classes == 1 else logits

    def kind_probabilities(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` → ``(N, len(GifKind))``: each frame's probability of each kind
        (a one-logit classifier cannot tell ordered from diffused: its "dithered" goes to
        :attr:`GifKind.DIFFUSION`)."""
        logits = self(frames)
        if self.config.classes > 1:
            return torch.softmax(logits, -1)
        p = torch.sigmoid(logits)
        return torch.stack([1 - p, p, torch.zeros_like(p)], -1)
