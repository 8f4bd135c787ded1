"""The blurry-video network: one pyramid level per frame, a recurrent state between frames.

For each blurry frame ``B_k`` the caller (:mod:`kinema.engines.deblur`) aligns its blurry
neighbours ``B_{k±1…scope}`` onto it by optical flow and hands over those flows and each
pixel's motion, along which the network samples ``B_k`` itself (the *streak*): a motion-blurred pixel is
the average of the scene along its motion, so with the samples along that line as
channels, undoing the blur becomes a per-pixel filter across channels, which a
convolution learns far sooner than a spatially varying kernel. The aligned neighbours
show the same surface blurred over other instants. The network works as a small pyramid —
full, half and quarter resolution, its width and temporal scope set by
:class:`kinema.models.deblur.config.DeblurConfig` — and predicts the sharp frame as a
residual over the blurry one.

At quarter resolution a convolutional GRU carries a state from each frame to the next
(the caller warps it onto the new frame along the flow and resets it at scene cuts), so a
surface restored well in one frame helps the next and the result is steady in time: the
inter-pyramid recurrent module of BIN (Shen et al., CVPR 2020), placed where its cost is
smallest.

Shapes: frames ``(N, 3, H, W)`` in [0, 1], any ``H, W`` (padded inside to a multiple of
4); ``aligned`` ``(N, 2·scope, 3, H, W)`` and ``flows`` ``(N, 2·scope, 2, H, W)`` in
pixels, ordered nearest-before, nearest-after, then the next pair out; ``motion``
``(N, 2, H, W)`` in pixels per frame interval; the state ``(N, hidden, ⌈H/4⌉, ⌈W/4⌉)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.deblur.config import DeblurConfig
from kinema.ops.warp import backward_warp


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.a, self.b = _conv(channels, channels), _conv(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class _GRU(nn.Module):
    """A convolutional GRU: what of the carried state to keep, what to take from the frame."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.gates = _conv(channels + hidden, 2 * hidden)
        self.candidate = _conv(channels + hidden, hidden)
        self.merge = nn.Conv2d(channels + hidden, channels, 1)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        update, reset = torch.sigmoid(self.gates(torch.cat([x, state], 1))).chunk(2, 1)
        candidate = torch.tanh(self.candidate(torch.cat([x, reset * state], 1)))
        state = torch.lerp(state, candidate, update)
        return self.merge(torch.cat([x, state], 1)), state


class DeblurNet(Checkpointed, nn.Module):
    """Blurry frame + aligned blurry neighbours + their flows (+ state) → sharp frame (+ state)."""

    arch = "deblur-v1"
    config_class = DeblurConfig

    def __init__(self, config: DeblurConfig = DeblurConfig()):
        super().__init__()
        self.config = config
        w0, w1, w2 = config.widths
        inputs = 3 + 5 * config.neighbours + 3 * len(config.offsets)
        self.enc0 = nn.Sequential(_conv(inputs, w0), nn.ReLU(inplace=True), _conv(w0, w0), nn.ReLU(inplace=True))
        self.enc1 = nn.Sequential(_conv(w0, w1, 2), nn.ReLU(inplace=True), _conv(w1, w1), nn.ReLU(inplace=True))
        self.enc2 = nn.Sequential(_conv(w1, w2, 2), nn.ReLU(inplace=True))
        self.gru = _GRU(w2, config.hidden) if config.hidden else None
        self.blocks = nn.Sequential(*(_Residual(w2) for _ in range(config.blocks)))
        self.dec1 = nn.ModuleList([_conv(w2, w1), _conv(w1, w1)])
        self.dec0 = nn.ModuleList([_conv(w1, w0), _conv(w0, w0)])
        self.out = _conv(w0, 3)
        # Start near the identity (the blurry frame itself, the safe answer for a sharp
        # input); not at it, so every layer gets a gradient from the first step.
        nn.init.normal_(self.out.weight, std=0.01)
        nn.init.zeros_(self.out.bias)

    @staticmethod
    def state_size(height: int, width: int) -> tuple[int, int]:
        """The recurrent state's size for frames of ``height × width``."""
        return math.ceil(height / 4), math.ceil(width / 4)

    def initial_state(self, frame: torch.Tensor) -> torch.Tensor | None:
        """The state before the first frame of a shot (zeros), or None without a recurrent module."""
        if not self.config.hidden:
            return None
        return frame.new_zeros(frame.shape[0], self.config.hidden, *self.state_size(*frame.shape[-2:]))

    def forward(
        self,
        frame: torch.Tensor,
        aligned: torch.Tensor,
        flows: torch.Tensor,
        state: torch.Tensor | None = None,
        motion: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(sharp, state)``; see the module docstring for shapes. ``sharp`` is not clamped.
        ``motion`` ``(N, 2, H, W)``: each pixel's motion over one frame interval, in pixels
        (None: none, as for a still); the frame is sampled along it at ``config.offsets``."""
        n, _, height, width = frame.shape
        k, s = self.config.neighbours, len(self.config.offsets)
        if aligned.shape != (n, k, 3, height, width) or flows.shape != (n, k, 2, height, width):
            raise ValueError(f"expected {k} aligned neighbours and flows for frames {tuple(frame.shape)}, got {tuple(aligned.shape)} and {tuple(flows.shape)}")
        if motion is not None and motion.shape != (n, 2, height, width):
            raise ValueError(f"expected a motion field (N, 2, H, W) for frames {tuple(frame.shape)}, got {tuple(motion.shape)}")
        parts = [frame]
        if s:
            if motion is None:
                parts.append(frame.new_zeros(n, 3 * s, height, width))
            else:
                parts += [backward_warp(frame, o * motion) - frame for o in self.config.offsets]
        if k:
            parts += [(aligned - frame[:, None]).flatten(1, 2), (flows / self.config.flow_scale).flatten(1, 2)]
        x = torch.cat(parts, 1)
        ph, pw = (-height) % 4, (-width) % 4
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        y = self.enc2(e1)
        if self.gru is not None:
            if state is None:
                state = self.initial_state(frame)
            y, state = self.gru(y, state)
        y = self.blocks(y)
        y = F.relu(self.dec1[0](F.interpolate(y, size=e1.shape[-2:], mode="bilinear", align_corners=False)))
        y = F.relu(self.dec1[1](y + e1))
        y = F.relu(self.dec0[0](F.interpolate(y, size=e0.shape[-2:], mode="bilinear", align_corners=False)))
        y = F.relu(self.dec0[1](y + e0))
        residual = self.out(y)[..., :height, :width]
        return frame + residual, state
