"""Video snapshot (Zhu et al.): k frames embedded in one image that looks like the middle
one, and the network that expands it back.

* :class:`MotionAttention` — one two-layer branch per frame (3×3 conv, 1×1 conv to one
  channel; separate weights: the paper's ablation shows sharing them costs 3 dB), a
  softmax across time at every pixel, and the skip multiplication ``T_i ⊙ I_i``. The
  encoder sees the attended frames *and* the frames themselves: a pixel where the
  softmax gives a frame almost no weight would otherwise lose that frame there.
* :class:`Embedder` (the Motion Embedding Network's encoder) — a head, two strided
  convolutions, residual blocks, two transposed convolutions with skips. It predicts a
  residual on the middle frame, so an untrained embedder returns the middle frame exactly
  (zero-initialized tail) and training only has to learn the motion texture.
* :class:`Expander` (the Motion Expansion Network's decoder) — a head, residual blocks, a
  long skip and a flat convolution to k residuals on the snapshot.

Both work on the 2×2 space-to-depth image (see :class:`SnapshotConfig`). Sizes that are
not a multiple of 8 are padded inside (replicating edges) and cropped back.

Shapes: a clip is ``(N, k, 3, H, W)``, a snapshot ``(N, 3, H, W)``, attention maps
``(N, k, H, W)`` (summing to 1 over k); all in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.snapshot.config import SnapshotConfig

ARCH = "kinema.snapshot.v1"


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.1))


def _zero_tail(cin: int, cout: int) -> nn.Conv2d:
    tail = nn.Conv2d(cin, cout, 3, 1, 1)
    nn.init.zeros_(tail.weight)
    nn.init.zeros_(tail.bias)
    return tail


class Residual(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.LeakyReLU(0.1), nn.Conv2d(width, width, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _pad(x: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    pad = (0, -w % multiple, 0, -h % multiple)
    if not any(pad):
        return x
    return F.pad(x.flatten(0, -4), pad, mode="replicate").unflatten(0, x.shape[:-3])


class MotionAttention(nn.Module):
    """``(N, k, 3, H, W)`` → attended frames ``T_i ⊙ I_i`` (same shape) and ``T`` ``(N, k, H, W)``."""

    def __init__(self, frames: int, width: int):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(3, width, 3, 1, 1), nn.LeakyReLU(0.1), nn.Conv2d(width, 1, 1)) for _ in range(frames)
        )

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = torch.cat([branch(clip[:, i]) for i, branch in enumerate(self.branches)], 1)
        attention = scores.softmax(1)
        return attention[:, :, None] * clip, attention


class Embedder(nn.Module):
    """``(N, k, 3, H, W)`` → ``(snapshot (N, 3, H, W), attention (N, k, H, W))``; H, W multiples of 8."""

    def __init__(self, config: SnapshotConfig):
        super().__init__()
        k, (w0, w1, w2) = config.frames, config.encoder_widths
        self.middle = config.middle
        self.attention = MotionAttention(k, config.attention_width)
        self.head = _conv(4 * 6 * k, w0)  # frames and attended frames, space-to-depth
        self.down1, self.down2 = _conv(w0, w1, 2), _conv(w1, w2, 2)
        self.blocks = nn.Sequential(*(Residual(w2) for _ in range(config.encoder_blocks)))
        self.up2, self.up1 = _up(w2, w1), _up(w1, w0)
        self.tail = _zero_tail(w0, 12)

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended, attention = self.attention(clip)
        x = torch.cat([clip.flatten(1, 2), attended.flatten(1, 2)], 1)
        s0 = self.head(F.pixel_unshuffle(x, 2))
        s1 = self.down1(s0)
        y = self.blocks(self.down2(s1))
        y = self.up1(self.up2(y) + s1) + s0
        residual = F.pixel_shuffle(self.tail(y), 2)
        return (clip[:, self.middle] + residual).clamp(0, 1), attention


class Expander(nn.Module):
    """``(N, 3, H, W)`` → ``(N, k, 3, H, W)`` (unclamped); H, W even."""

    def __init__(self, config: SnapshotConfig):
        super().__init__()
        self.frames = config.frames
        self.head = _conv(12, config.decoder_width)
        self.blocks = nn.Sequential(*(Residual(config.decoder_width) for _ in range(config.decoder_blocks)))
        self.tail = _zero_tail(config.decoder_width, 12 * config.frames)

    def forward(self, snapshot: torch.Tensor) -> torch.Tensor:
        x = self.head(F.pixel_unshuffle(snapshot, 2))
        y = self.tail(self.blocks(x) + x)  # the long skip
        residuals = F.pixel_shuffle(y, 2).unflatten(1, (self.frames, 3))
        return snapshot[:, None] + residuals


class SnapshotNet(Checkpointed, nn.Module):
    """Both networks; see the module docstring."""

    arch = ARCH
    config_class = SnapshotConfig

    def __init__(self, config: SnapshotConfig = SnapshotConfig()):
        super().__init__()
        self.config = config
        self.embedder = Embedder(config)
        self.expander = Expander(config)

    def embed(self, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(snapshot, attention)`` for ``clip`` ``(N, k, 3, H, W)`` of any size.

        The snapshot is continuous; what is saved is it rounded to 8 bits
        (:func:`kinema.ops.codec.round_8bit`).
        """
        if clip.dim() != 5 or clip.shape[1] != self.config.frames or clip.shape[2] != 3:
            raise ValueError(f"expected a clip (N, {self.config.frames}, 3, H, W), got {tuple(clip.shape)}")
        h, w = clip.shape[-2:]
        snapshot, attention = self.embedder(_pad(clip, self.config.multiple))
        return snapshot[..., :h, :w], attention[..., :h, :w]

    def decode(self, snapshot: torch.Tensor) -> torch.Tensor:
        """The k frames ``(N, k, 3, H, W)`` of ``snapshot`` ``(N, 3, H, W)``, unclamped (training)."""
        if snapshot.dim() != 4 or snapshot.shape[1] != 3:
            raise ValueError(f"expected snapshots (N, 3, H, W), got {tuple(snapshot.shape)}")
        h, w = snapshot.shape[-2:]
        return self.expander(_pad(snapshot, self.config.multiple))[..., :h, :w]

    def expand(self, snapshot: torch.Tensor) -> torch.Tensor:
        """The k frames of ``snapshot``, clamped to [0, 1]."""
        return self.decode(snapshot).clamp(0, 1)
