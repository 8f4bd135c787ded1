"""A shot-transition detector: a small 2-D CNN made temporal by MEAST blocks.

Every frame of a window is shrunk to the working size and seen together with its
difference from the previous frame. Three strided 2-D stages make per-frame features;
after the second and third stage a *mixer* exchanges information across frames — by
default the multi-scale efficient asymmetric spatio-temporal (MEAST) block. The features
are pooled over space, joined by hand-made similarities between frames at several
offsets (mean absolute difference, colour-histogram distance: cheap and exact cues a
small network would otherwise have to learn), and a dilated 1-D convolution head gives
each frame five logits (:data:`kinema.models.transitions.config.CLASSES`): no transition,
the first frame after a cut, and the first, inner and last frames of a gradual one.

Shapes: ``(B, T, 3, H, W)`` at the working size in [0, 1] → ``(B, T, 5)`` logits. The
network is convolutional in time, so any ``T`` works; the outer ``config.reach`` frames
of a window see zero padding, and a caller overlapping windows discards them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.transitions.config import CLASSES, Mixer, TransitionConfig

ARCH = "kinema.transitions.v1"
#: Histogram bins per channel for the similarity features.
_BINS = 8


class MEASTBlock(nn.Module):
    """Multi-scale efficient asymmetric spatio-temporal block: ``(B, C, T, H, W)`` → same.

    The channels are split into one group per branch, and each branch filters its group
    with a depthwise kernel of its own temporal × spatial extent (``branches``: e.g. 3×1×1
    looks at neighbouring frames only, 1×3×3 at the neighbourhood in one frame, 7×1×1 far
    in time). Kernels are not cubic: actions — and transitions — have different extents in
    space and in time, and depthwise filters keep the cost per branch at a few
    multiply-adds per value. The *feature interaction layer* then mixes all branches with
    one pointwise map over the concatenated groups; channel concatenation (the identity,
    its initial value) and channel shuffling (a permutation) are special cases of it, so
    it learns whichever fusion pays. The block is residual, so it can be dropped into a
    2-D network without changing what the stages before it compute.
    """

    def __init__(self, channels: int, branches: tuple[tuple[int, int], ...]):
        super().__init__()
        if channels % len(branches):
            raise ValueError(f"{channels} channels do not split over {len(branches)} branches")
        self.split = channels // len(branches)
        self.branches = nn.ModuleList(
            nn.Conv3d(self.split, self.split, (kt, ks, ks), padding=(kt // 2, ks // 2, ks // 2), groups=self.split, bias=False)
            for kt, ks in branches
        )
        self.interaction = nn.Conv3d(channels, channels, 1)
        with torch.no_grad():
            self.interaction.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1, 1))
            self.interaction.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups = x.split(self.split, dim=1)
        fused = torch.cat([branch(group) for branch, group in zip(self.branches, groups)], 1)
        return x + F.relu(self.interaction(fused))


class Conv3dMixer(nn.Module):
    """The ablation's plain 3×3×3 convolution (residual, like the block it replaces)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.relu(self.conv(x))


def _mixer(config: TransitionConfig, channels: int) -> nn.Module:
    if config.mixer is Mixer.MEAST:
        return MEASTBlock(channels, config.branches)
    if config.mixer is Mixer.CONV3D:
        return Conv3dMixer(channels)
    return nn.Identity()


def similarities(frames: torch.Tensor, offsets: tuple[int, ...]) -> torch.Tensor:
    """``(B, T, 3, H, W)`` → ``(B, 4·len(offsets), T)``: for each offset d, the mean
    absolute difference and the colour-histogram distance (half L1, per channel) between
    frame t and frames t − d and t + d (edge frames repeated beyond the window)."""
    b, t = frames.shape[:2]
    bins = (frames.clamp(0, 1) * (_BINS - 1e-4)).long().flatten(3)  # (B, T, 3, HW)
    hist = torch.zeros(b, t, 3, _BINS, dtype=frames.dtype, device=frames.device)
    hist.scatter_add_(3, bins, torch.ones_like(bins, dtype=frames.dtype))
    hist = hist.flatten(2) / bins.shape[-1]  # (B, T, 3·BINS)
    small = F.avg_pool2d(frames.flatten(0, 1), 2).reshape(b, t, -1)  # less noise, same cue
    features = []
    for d in offsets:
        for shift in (-d, d):
            index = (torch.arange(t, device=frames.device) + shift).clamp(0, t - 1)
            features.append((small - small[:, index]).abs().mean(-1))
            features.append(0.5 * (hist - hist[:, index]).abs().sum(-1) / 3)
    return torch.stack(features, 1)


class TransitionNet(Checkpointed, nn.Module):
    """See the module docstring."""

    arch = ARCH
    config_class = TransitionConfig

    def __init__(self, config: TransitionConfig = TransitionConfig()):
        super().__init__()
        self.config = config
        w0, w1, w2 = config.widths
        act = nn.ReLU()
        self.stage0 = nn.Sequential(nn.Conv2d(6, w0, 3, 2, 1), act, nn.Conv2d(w0, w0, 3, 1, 1), act)
        self.stage1 = nn.Sequential(nn.Conv2d(w0, w1, 3, 2, 1), act)
        self.stage2 = nn.Sequential(nn.Conv2d(w1, w2, 3, 2, 1), act)
        self.mix1, self.mix2 = _mixer(config, w1), _mixer(config, w2)
        self.inlet = nn.Conv1d(2 * w2 + 4 * len(config.offsets), config.head, 3, padding=1)
        self.temporal = nn.ModuleList(nn.Conv1d(config.head, config.head, 3, padding=d, dilation=d) for d in config.dilations)
        self.out = nn.Conv1d(config.head, len(CLASSES), 1)

    def _mixed(self, x: torch.Tensor, mixer: nn.Module, b: int, t: int) -> torch.Tensor:
        """Run a mixer on per-frame maps ``(B·T, C, h, w)`` and hand them back in that layout."""
        if isinstance(mixer, nn.Identity):
            return x
        c, h, w = x.shape[1:]
        x = mixer(x.view(b, t, c, h, w).transpose(1, 2))
        return x.transpose(1, 2).reshape(b * t, c, h, w)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        if frames.shape[2:] != (3, self.config.height, self.config.width):
            raise ValueError(f"expected (B, T, 3, {self.config.height}, {self.config.width}) frames, got {tuple(frames.shape)}")
        change = F.pad((frames[:, 1:] - frames[:, :-1]).abs(), (0, 0, 0, 0, 0, 0, 1, 0))
        x = self.stage0(torch.cat([frames, change], 2).flatten(0, 1))
        x = self._mixed(self.stage1(x), self.mix1, b, t)
        x = self._mixed(self.stage2(x), self.mix2, b, t)
        pooled = torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1).view(b, t, -1).transpose(1, 2)
        h = F.relu(self.inlet(torch.cat([pooled, similarities(frames, self.config.offsets)], 1)))
        for conv in self.temporal:
            h = h + F.relu(conv(h))
        return self.out(h).transpose(1, 2)
