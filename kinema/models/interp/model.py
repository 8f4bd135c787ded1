"""The learned interpolator.

Shape contract: ``a``, ``b`` ``(N, 3, H, W)`` in [0, 1], ``t`` ``(N,)`` in [0, 1] →
``(N, 3, H, W)``. Any H, W: inputs are padded to a multiple of the coarsest scale and the
output is cropped back.

1. **Flow to t, coarse to fine** (RIFE-style: the network predicts the flows *from* t
   directly, so nothing has to be projected): each level sees both frames, both frames
   warped by the current flows, the current flows and mask, and t; it works at 1/scale
   and adds a correction to the flows ``f_ta``, ``f_tb`` and to the blend mask logit.
2. **Warp frames and context features** with :func:`kinema.ops.warp.backward_warp` and
   blend them with the mask ``m``: ``Î = m·g(a, f_ta) + (1 − m)·g(b, f_tb)`` (the
   zoom-in-to-check equations 1–2).
3. **Synthesis**: a few wide-kernel convolutions on ``[Î, F̂, g(a), g(b)]`` predict a
   residual added to ``Î``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import load_checkpoint, save_checkpoint
from kinema.models.interp.config import InterpConfig
from kinema.ops.warp import Padding, backward_warp
from kinema.types import ModelMismatchError

ARCH = "kinema.interp.v1"


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2), nn.PReLU(cout))


class FlowLevel(nn.Module):
    """One coarse-to-fine level: refines (flow_ta, flow_tb, mask logit) at 1/scale."""

    #: a, b, warped a, warped b (3 each), flows (4), mask logit (1), t (1)
    IN_CHANNELS = 3 * 4 + 4 + 1 + 1

    def __init__(self, scale: int, width: int, depth: int):
        super().__init__()
        self.scale = scale
        self.entry = _conv(self.IN_CHANNELS, width, 3, 2)  # works at 1/(2·scale) inside
        self.body = nn.Sequential(*[_conv(width, width) for _ in range(depth)])
        self.head = nn.ConvTranspose2d(width, 5, 4, 2, 1)  # back to 1/scale
        nn.init.zeros_(self.head.weight)  # start as "no correction": training begins stable
        nn.init.zeros_(self.head.bias)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` ``(N, IN_CHANNELS, H, W)`` at full size → correction ``(N, 5, H, W)``;
        flow channels are in full-resolution pixels."""
        size = inputs.shape[-2:]
        x = inputs
        if self.scale > 1:
            x = F.interpolate(inputs, scale_factor=1 / self.scale, mode="bilinear", align_corners=False)
            x = torch.cat([x[:, :16], x[:, 16:20] / self.scale, x[:, 20:]], 1)  # flows in this level's pixels
        out = self.head(self.body(self.entry(x)))
        if self.scale > 1:
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
            out = torch.cat([out[:, :4] * self.scale, out[:, 4:]], 1)
        return out


class InterpNet(nn.Module):
    """See the module docstring."""

    def __init__(self, config: InterpConfig = InterpConfig()):
        super().__init__()
        self.config = config
        self.levels = nn.ModuleList(
            FlowLevel(s, w, config.flow_depth) for s, w in zip(config.scales, config.flow_widths)
        )
        self.context = nn.Sequential(_conv(3, config.context), _conv(config.context, config.context))
        k = config.synth_kernel
        layers = [_conv(3 * 3 + config.context, config.synth_width, k)]
        layers += [_conv(config.synth_width, config.synth_width, k) for _ in range(config.synth_layers - 2)]
        layers += [nn.Conv2d(config.synth_width, 3, k, 1, k // 2)]
        self.synthesis = nn.Sequential(*layers)
        nn.init.zeros_(self.synthesis[-1].weight)
        nn.init.zeros_(self.synthesis[-1].bias)

    def save(self, path: Path, **meta) -> Path:
        """Write a self-describing checkpoint (see :mod:`kinema.models.checkpoint`)."""
        return save_checkpoint(path, self.state_dict(), arch=ARCH, config=self.config.as_dict(), meta=meta)

    @classmethod
    def load(cls, path: Path, *, map_location: str | torch.device = "cpu") -> tuple[InterpNet, dict]:
        """``(model, meta)`` from a checkpoint; the model is in eval mode."""
        tensors, config, meta = load_checkpoint(path, arch=ARCH)
        try:
            model = cls(InterpConfig.from_dict(config))
            model.load_state_dict(tensors, strict=True)
        except (ValueError, TypeError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise ModelMismatchError(f"{path}: weights do not fit the {ARCH} model ({first})") from None
        return model.to(map_location).eval(), meta

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this."""
        return 2 * max(self.config.scales)

    def estimate(self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Flows from t ``(N, 2, H, W)`` ×2 and blend mask ``(N, 1, H, W)`` in (0, 1)."""
        n, _, h, w = a.shape
        tmap = t.view(n, 1, 1, 1).expand(n, 1, h, w).to(a.dtype)
        flows = torch.zeros(n, 4, h, w, dtype=a.dtype, device=a.device)
        logit = torch.zeros(n, 1, h, w, dtype=a.dtype, device=a.device)
        for level in self.levels:
            warped_a = backward_warp(a, flows[:, :2], padding=Padding.BORDER)
            warped_b = backward_warp(b, flows[:, 2:], padding=Padding.BORDER)
            delta = level(torch.cat([a, b, warped_a, warped_b, flows, logit, tmap], 1))
            flows = flows + delta[:, :4]
            logit = logit + delta[:, 4:]
        # The mask starts at the time prior (1 − t): a linear blend before any training.
        prior = torch.logit((1 - tmap).clamp(1e-3, 1 - 1e-3))
        return flows[:, :2], flows[:, 2:], torch.sigmoid(logit + prior)

    def forward(self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, *, return_coarse: bool = False):
        """``(N, 3, H, W)`` ×2 and ``t`` ``(N,)`` → ``(N, 3, H, W)`` (and the blend ``Î``
        before synthesis when ``return_coarse``, for the training loss)."""
        h, w = a.shape[-2:]
        m = self.multiple
        pad = (0, (-w) % m, 0, (-h) % m)
        if any(pad):
            a, b = F.pad(a, pad, mode="replicate"), F.pad(b, pad, mode="replicate")
        flow_ta, flow_tb, mask = self.estimate(a, b, t)
        warped_a = backward_warp(a, flow_ta, padding=Padding.BORDER)
        warped_b = backward_warp(b, flow_tb, padding=Padding.BORDER)
        coarse = mask * warped_a + (1 - mask) * warped_b
        ctx_a, ctx_b = self.context(a), self.context(b)
        ctx = mask * backward_warp(ctx_a, flow_ta) + (1 - mask) * backward_warp(ctx_b, flow_tb)
        out = coarse + self.synthesis(torch.cat([coarse, ctx, warped_a, warped_b], 1))
        out, coarse = out[..., :h, :w], coarse[..., :h, :w]
        return (out, coarse) if return_coarse else out


def complexity(model: nn.Module, height: int = 720, width: int = 1280) -> tuple[int, float]:
    """(parameters, GFLOPs for one output frame at ``height`` × ``width``).

    FLOPs are counted as 2 × multiply–accumulates of the convolutions (the usual
    convention), measured by running the model once on zeros with forward hooks.
    """
    macs = 0

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal macs
        kernel = module.weight.shape[2] * module.weight.shape[3]
        if isinstance(module, nn.ConvTranspose2d):
            macs += inputs[0].numel() * module.out_channels * kernel // module.groups
        else:
            macs += output.numel() * (module.in_channels // module.groups) * kernel

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            zeros = torch.zeros(1, 3, height, width, device=device)
            model(zeros, zeros, torch.full((1,), 0.5, device=device))
    finally:
        for hook in hooks:
            hook.remove()
    params = sum(p.numel() for p in model.parameters())
    return params, 2 * macs / 1e9
