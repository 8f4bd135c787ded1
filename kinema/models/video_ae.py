"""Video-specific autoencoder (Wang, Ramanan & Bansal): one small network fit to one video.

* Encoder ``f`` — six 5×5 convolutions, each followed by batch norm and ReLU. The first
  four have stride 2; the last two keep the size and are each max-pooled 2×2, so the
  latent map is ``(latent_channels, H/64, W/64)``.
* Decoder ``g`` — six 4×4 transposed convolutions of stride 2 (batch norm and ReLU after
  all but the last), back to ``(3, H, W)``.
* No skip connections: everything the decoder draws has to pass through the latent map,
  which is what makes latent averages, interpolations and reprojection meaningful.

Any frame size works: every stage rounds its size up (strided convolutions and ceil-mode
pooling), so the latent map of an ``H×W`` frame is ``ceil(H/64) × ceil(W/64)``, and the
decoder cuts each stage back to the size the frame needs rather than padding the frame to
a multiple of 64.

Shapes: frames ``(N, 3, H, W)`` in [0, 1]; latents ``(N, C, ceil(H/64), ceil(W/64))``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed, ConfigDict

ARCH = "kinema.video_ae.v1"

@dataclass(frozen=True)
class VideoAEConfig(ConfigDict):
    """Sizes of :class:`VideoAE`; a checkpoint stores it.

    The paper uses ``k = 64`` filters in the first layer, doubling to ``8k`` and a latent
    of ``12k`` channels (:meth:`paper`), 34 million parameters. The default is
    far narrower — 8 to 48 encoder channels, a 192-channel latent, 0.8 million
    parameters — because under a time budget on a CPU a small network that takes many
    more steps fits one video better (``docs/models/video_ae.md``).
    """

    #: Encoder channels of the six layers; the last is the latent's channel count.
    encoder_widths: tuple[int, ...] = (8, 16, 24, 32, 48, 192)
    #: Decoder channels after each of the first five transposed convolutions.
    decoder_widths: tuple[int, ...] = (96, 64, 48, 32, 24)

    def __post_init__(self):
        if len(self.encoder_widths) != 6 or len(self.decoder_widths) != 5:
            raise ValueError("a video autoencoder has six encoder widths and five decoder widths")
        if any(w < 1 for w in (*self.encoder_widths, *self.decoder_widths)):
            raise ValueError("widths must be positive")

    @property
    def latent_channels(self) -> int:
        return self.encoder_widths[-1]

    @classmethod
    def scaled(cls, first: int) -> VideoAEConfig:
        """The default's shape with ``first`` channels in the first layer (default 8);
        every other width scales with it."""
        if first < 1:
            raise ValueError(f"the first layer needs at least 1 channel, got {first}")
        base = cls()
        scale = first / base.encoder_widths[0]
        return cls(
            encoder_widths=tuple(max(1, round(w * scale)) for w in base.encoder_widths),
            decoder_widths=tuple(max(1, round(w * scale)) for w in base.decoder_widths),
        )

    @classmethod
    def paper(cls, k: int = 64) -> VideoAEConfig:
        """The paper's widths: encoder ``k, 2k, 4k, 8k, 8k, 12k``, decoder mirrored."""
        return cls(encoder_widths=(k, 2 * k, 4 * k, 8 * k, 8 * k, 12 * k), decoder_widths=(8 * k, 8 * k, 4 * k, 2 * k, k))

    @classmethod
    def tiny(cls, **changes) -> VideoAEConfig:
        """About 120 thousand parameters: for tests (fits 4 small frames in a few seconds)."""
        small = cls(encoder_widths=(8, 16, 16, 32, 32, 32), decoder_widths=(32, 32, 16, 16, 8))
        return dataclasses.replace(small, **changes)


def _block(cin: int, cout: int, *, stride: int, pool: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 5, stride, 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class VideoAE(Checkpointed, nn.Module):
    """``decode(encode(x)) ≈ x`` for the frames of one video."""

    arch = ARCH
    config_class = VideoAEConfig

    def __init__(self, config: VideoAEConfig = VideoAEConfig()):
        super().__init__()
        self.config = config
        widths = (3, *config.encoder_widths)
        self.encoder = nn.Sequential(*(_block(widths[i], widths[i + 1], stride=2 if i < 4 else 1, pool=i >= 4) for i in range(6)))
        dec = (config.latent_channels, *config.decoder_widths)
        self.decoder = nn.Sequential(*(_up(dec[i], dec[i + 1]) for i in range(5)), nn.ConvTranspose2d(dec[-1], 3, 4, 2, 1))
        # An untrained decoder draws flat grey: with the default init its first outputs
        # swing by ±1, and at the learning rates that fit a video in minutes that first
        # loss spike kills ReLUs and the net collapses to a constant image (measured).
        nn.init.normal_(self.decoder[-1].weight, std=1e-3)
        nn.init.zeros_(self.decoder[-1].bias)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` → latents ``(N, C, ceil(H/64), ceil(W/64))``."""
        return self.encoder(frames - 0.5)

    def pixel_codes(self, frames: torch.Tensor, size: tuple[int, int], layers: int = 6) -> torch.Tensor:
        """The paper's pixel codes: every encoder layer's features resampled (bilinear) to
        ``size`` and stacked, a hypercolumn per pixel → ``(N, D, *size)``, D the sum of
        the widths of the first ``layers`` encoder layers (all six by default). Each layer is scaled to unit length per pixel first, so the
        192-channel latent does not drown the 8 channels that see edges; the whole code
        has length 1 (a dot product of two codes is their cosine similarity)."""
        x, parts = frames - 0.5, []
        for block in self.encoder[:layers]:
            x = block(x)
            part = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            parts.append(F.normalize(part, dim=1))
        return torch.cat(parts, 1) / len(parts) ** 0.5

    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Latents → frames ``(N, 3, *size)``. Not clamped while training (a clamp would
        stop the gradient at saturated pixels)."""
        x = latents
        for i, layer in enumerate(self.decoder):
            x = layer(x)
            # Every layer's output is cut to what the next scale needs (ceil(size / 2^k)):
            # a 16:9 frame would otherwise be drawn a third taller than it is.
            scale = 2 ** (len(self.decoder) - 1 - i)
            x = x[..., : -(-size[0] // scale), : -(-size[1] // scale)]
        out = x + 0.5
        return out if self.training else out.clamp(0, 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(frames), frames.shape[-2:])

    def reproject(self, frames: torch.Tensor, steps: int = 5) -> torch.Tensor:
        """``g(f(·))`` applied ``steps`` times (the paper's iterative reprojection, n = 5):
        pulls an image that is off the video's manifold (a blend, an upsampled frame, an
        edit) onto it. ``steps = 0`` returns the input."""
        for _ in range(steps):
            frames = self(frames)
        return frames
