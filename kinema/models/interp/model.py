"""The learned interpolator.

Shape contract: ``a``, ``b`` ``(N, 3, H, W)`` in [0, 1], ``t`` ``(N,)`` in [0, 1], an
optional ``guide`` — ``(N, 4, H, W)`` initial flows from t to a and to b, in pixels, or the
:class:`~kinema.ops.projection.MotionParts` they are projected from (needed by
``InterpConfig.priority``) — → ``(N, 3, H, W)``. Any H, W: inputs are padded to a multiple of the coarsest scale and
the outputs cropped back.

1. **Flow to t, coarse to fine** (RIFE-style: the network predicts the flows *from* t
   directly, so nothing has to be projected): each level sees both frames, both frames
   warped by the current flows, the current flows and mask, and t; it works at 1/scale
   and adds a correction to the flows ``f_ta``, ``f_tb`` and to the blend mask logit.
   The flows start from ``guide`` — in kinema the classical engine's projected DIS flows,
   which a 2-core CPU gets in a few ms and which a small network trained on a CPU for an
   hour cannot match from scratch — or from zero.
2. **Warp frames and context features** with :func:`kinema.ops.warp.backward_warp` and
   blend them with the mask ``m``: ``Î = m·g(a, f_ta) + (1 − m)·g(b, f_tb)`` (the
   zoom-in-to-check equations 1–2).
3. **Synthesis**: a few convolutions on ``[Î, F̂, g(a), g(b), m]`` predict a residual
   added to ``Î``.
4. **Confidence gate** (``InterpConfig.gate``): all corrections are scaled down where the
   guide's warps of a and b already agree, so the network works where DIS failed.

Two switchable parts attack the motion to t itself (both off in the shipped default file):

- **Learned priority** (``InterpConfig.priority``, DAIN's depth-aware projection): a small
  head on each frame and its context features predicts a log-priority; the guide's flows
  between the frames are projected to t here, through the differentiable soft z-buffer of
  :func:`kinema.ops.projection.project_to_t`, with the classical photo-consistency weights
  (the prior) multiplied by ``exp(priority)``: where surfaces collide at t, the one the
  network ranks closer wins. Trained end to end by the frame loss.
- **Adaptive warping** (``InterpConfig.adaptive``, MEMC-Net): step 2 samples each frame
  with :func:`kinema.ops.warp.adaptive_warp`, a k×k kernel per pixel around the flow's
  position — a delta plus a learned zero-sum correction, predicted from the warped frames —
  which can re-blur, sharpen or shift by a fraction of a pixel where one bilinear tap is
  wrong. The kernels are predicted at the working size and applied at full size by
  :func:`compose`, their taps spaced by the scale between the two.

Every correction starts at zero and the mask at the time prior ``1 − t``, so an untrained
network returns the guided linear blend — the classical engine's own output — and
training can only start from there.

:meth:`InterpNet.predict` returns the flows, mask and residual rather than the frame, so
a caller can run the network on downscaled frames and :func:`compose` the result at full
resolution (how :class:`kinema.engines.learned.LearnedEngine` handles 720p and 4K).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.interp.config import InterpConfig
from kinema.ops.flow import resize_flow
from kinema.ops.projection import MotionParts, project_to_t
from kinema.ops.resize import bilinear
from kinema.ops.warp import Padding, adaptive_warp, backward_warp

ARCH = "kinema.interp.v2"


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
            x = torch.cat([x[:, :12], x[:, 12:16] / self.scale, x[:, 16:]], 1)  # flows in this level's pixels
        out = self.head(self.body(self.entry(x)))
        if self.scale > 1:
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
            out = torch.cat([out[:, :4] * self.scale, out[:, 4:]], 1)
        return out


@dataclass
class Prediction:
    """What the network says about one frame at time t, at the resolution it ran at."""

    flows: torch.Tensor  # (N, 4, h, w): flow_ta, flow_tb in pixels
    mask: torch.Tensor  # (N, 1, h, w): weight of warped a, in (0, 1)
    residual: torch.Tensor  # (N, 3, h, w): synthesis correction
    #: (N, 2·k², h, w): the adaptive warping kernels of a, then of b (None: one bilinear tap)
    kernels: torch.Tensor | None = None

    def float(self) -> Prediction:
        """Every tensor in float32 (what a network run under autocast leaves in float16)."""
        fields = (self.flows, self.mask, self.residual, self.kernels)
        return Prediction(*(None if x is None else x.float() for x in fields))


def warp_pair(a: torch.Tensor, b: torch.Tensor, flows: torch.Tensor, kernels: torch.Tensor | None, spacing: float = 1.0):
    """Both frames ``(N, 3, H, W)`` backward-warped by ``flows`` ``(N, 4, H, W)``: one
    bilinear tap, or adaptive warping with ``kernels`` (any resolution; taps ``spacing``
    pixels apart)."""
    if kernels is None:
        return backward_warp(a, flows[:, :2], padding=Padding.BORDER), backward_warp(b, flows[:, 2:], padding=Padding.BORDER)
    taps = kernels.shape[1] // 2
    return (
        adaptive_warp(a, flows[:, :2], kernels[:, :taps], spacing=spacing),
        adaptive_warp(b, flows[:, 2:], kernels[:, taps:], spacing=spacing),
    )


def compose(a: torch.Tensor, b: torch.Tensor, pred: Prediction) -> torch.Tensor:
    """The frame ``(N, 3, H, W)`` from full-size inputs and a (possibly smaller) prediction:
    flows, mask and residual are resized to the inputs, both warped (adaptive kernels keep
    their taps one working-size pixel apart), blended, corrected."""
    h, w = a.shape[-2:]
    flows = resize_flow(pred.flows, h, w)
    mask, residual = bilinear(pred.mask, h, w), bilinear(pred.residual, h, w)
    warped_a, warped_b = warp_pair(a, b, flows, pred.kernels, spacing=w / pred.flows.shape[-1])
    return torch.lerp(warped_b, warped_a, mask) + residual


class InterpNet(Checkpointed, nn.Module):
    """See the module docstring."""

    arch = ARCH
    config_class = InterpConfig

    def __init__(self, config: InterpConfig = InterpConfig()):
        super().__init__()
        self.config = config
        self.levels = nn.ModuleList(
            FlowLevel(s, w, config.flow_depth) for s, w in zip(config.scales, config.flow_widths)
        )
        self.context = nn.Sequential(_conv(3, config.context), _conv(config.context, config.context))
        k = config.synth_kernel
        layers = [_conv(3 * 3 + config.context + 1, config.synth_width, k)]
        layers += [_conv(config.synth_width, config.synth_width, k) for _ in range(config.synth_layers - 2)]
        layers += [nn.Conv2d(config.synth_width, 3, k, 1, k // 2)]
        self.synthesis = nn.Sequential(*layers)
        nn.init.zeros_(self.synthesis[-1].weight)
        nn.init.zeros_(self.synthesis[-1].bias)
        # Optional parts: their last layers start at zero, so switching one on leaves the
        # network's output unchanged until it is trained (a fine-tune starts where it was).
        self.kernel_head = self.priority_head = None
        if config.adaptive:
            taps = config.adaptive**2
            self.kernel_head = nn.Sequential(
                _conv(3 * 3 + config.context + 1, config.synth_width), nn.Conv2d(config.synth_width, 2 * taps, 3, 1, 1)
            )
            nn.init.zeros_(self.kernel_head[-1].weight)
            nn.init.zeros_(self.kernel_head[-1].bias)
        if config.priority:
            self.priority_head = nn.Sequential(_conv(3 + config.context, 16), nn.Conv2d(16, 1, 3, 1, 1))
            nn.init.zeros_(self.priority_head[-1].weight)
            nn.init.zeros_(self.priority_head[-1].bias)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this."""
        return 2 * max(self.config.scales)

    def _estimate(self, a, b, tmap, flows) -> tuple[torch.Tensor, torch.Tensor]:
        logit = torch.zeros_like(tmap)
        for level in self.levels:
            warped_a = backward_warp(a, flows[:, :2], padding=Padding.BORDER)
            warped_b = backward_warp(b, flows[:, 2:], padding=Padding.BORDER)
            delta = level(torch.cat([a, b, warped_a, warped_b, flows, logit, tmap], 1))
            flows = flows + delta[:, :4]
            logit = logit + delta[:, 4:]
        # The mask starts at the time prior (1 − t): a linear blend before any training.
        prior = torch.logit((1 - tmap).clamp(1e-3, 1 - 1e-3))
        return flows, torch.sigmoid(logit + prior)

    def _gate(self, a: torch.Tensor, b: torch.Tensor, guide: torch.Tensor) -> torch.Tensor | None:
        """How much the network may change the guided blend, ``(N, 1, H, W)`` in [0, 1]
        (see ``InterpConfig.gate``); None when the gate is off.

        Why: the shipped weights (trained without it) made small corrections to near-still
        pairs, where any change is loss; what the gate gains and costs is in the model
        card's ablations (``docs/models/interp.md``)."""
        if self.config.gate <= 0:
            return None
        with torch.no_grad():
            warped_a = backward_warp(a, guide[:, :2], padding=Padding.BORDER)
            warped_b = backward_warp(b, guide[:, 2:], padding=Padding.BORDER)
            error = (warped_a - warped_b).abs().mean(1, keepdim=True)
            gate = 1 - torch.exp(-error / self.config.gate)
            # A 7×7 maximum, as a row pass and a column pass: the same values, 2.5× faster on CPU.
            return F.max_pool2d(F.max_pool2d(gate, (1, 7), 1, (0, 3)), (7, 1), 1, (3, 0))

    def predict(
        self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, guide: torch.Tensor | MotionParts | None = None
    ) -> tuple[Prediction, torch.Tensor]:
        """``(prediction, Î)``: flows, mask, synthesis residual (and adaptive kernels) at
        the size of ``a``, and the blend before synthesis (which the training loss also
        scores). ``guide`` as :class:`~kinema.ops.projection.MotionParts` must be at the
        size of ``a``."""
        n, _, h, w = a.shape
        m = self.multiple
        pad = (0, (-w) % m, 0, (-h) % m)
        padded = (lambda x: F.pad(x, pad, mode="replicate")) if any(pad) else (lambda x: x)
        a, b = padded(a), padded(b)
        context_a, context_b = self.context(a), self.context(b)
        if isinstance(guide, MotionParts):
            guide = self._project(guide, t, torch.cat([a, context_a], 1)[..., :h, :w], torch.cat([b, context_b], 1)[..., :h, :w])
        guide = torch.zeros(n, 4, h, w, dtype=a.dtype, device=a.device) if guide is None else guide
        guide = padded(guide)
        tmap = t.to(a.dtype).view(n, 1, 1, 1).expand(n, 1, *a.shape[-2:])
        flows, mask = self._estimate(a, b, tmap, guide)
        gate = self._gate(a, b, guide)
        if gate is not None:
            flows = guide + gate * (flows - guide)
            mask = torch.lerp(1 - tmap, mask, gate)
        warped_a, warped_b = warp_pair(a, b, flows, None)
        ctx = torch.lerp(backward_warp(context_b, flows[:, 2:]), backward_warp(context_a, flows[:, :2]), mask)
        kernels = None
        if self.kernel_head is not None:
            kernels = self._kernels(torch.cat([warped_a, warped_b, torch.lerp(warped_b, warped_a, mask), ctx, mask], 1), gate)
            warped_a, warped_b = warp_pair(a, b, flows, kernels)
        coarse = torch.lerp(warped_b, warped_a, mask)
        residual = self.synthesis(torch.cat([coarse, ctx, warped_a, warped_b, mask], 1))
        if gate is not None:
            residual = gate * residual
        crop = lambda x: None if x is None else x[..., :h, :w]  # noqa: E731
        return Prediction(crop(flows), crop(mask), crop(residual), crop(kernels)), crop(coarse)

    def _project(self, parts: MotionParts, t: torch.Tensor, features_a: torch.Tensor, features_b: torch.Tensor) -> torch.Tensor:
        """The guide's motion projected to t ``(N, 4, h, w)``, with the learned priority
        multiplied into the z-buffer weights when ``InterpConfig.priority`` is on."""
        if parts.size != tuple(features_a.shape[-2:]):
            raise ValueError(f"motion parts at {parts.size} do not match frames at {tuple(features_a.shape[-2:])}")
        if self.priority_head is not None:
            # Bounded log-priority (exp(±8) is far past any photo-consistency ratio): a
            # runaway value cannot overflow the splat's weighted sums.
            priority = 8 * torch.tanh(self.priority_head(torch.cat([features_a, features_b])) / 8)
            parts = parts.weighted(*priority.chunk(2))
        return torch.cat(project_to_t(parts, t), 1)

    def _kernels(self, features: torch.Tensor, gate: torch.Tensor | None) -> torch.Tensor:
        """Adaptive warping kernels ``(N, 2·k², H, W)``: a delta at the centre tap plus a
        zero-sum correction per side (brightness is kept), scaled by the gate."""
        taps = self.config.adaptive**2
        raw = self.kernel_head(features)
        n, _, height, width = raw.shape
        raw = raw.view(n, 2, taps, height, width)
        correction = raw - raw.mean(2, keepdim=True)
        if gate is not None:
            correction = gate[:, None] * correction
        delta = torch.zeros(taps, dtype=raw.dtype, device=raw.device)
        delta[taps // 2] = 1
        return (delta.view(1, 1, taps, 1, 1) + correction).view(n, 2 * taps, height, width)

    def forward(self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, 3, H, W)`` ×2, ``t`` ``(N,)`` and optional ``guide`` → ``(N, 3, H, W)``."""
        pred, coarse = self.predict(a, b, t, guide)
        return coarse + pred.residual


def complexity(model: nn.Module, height: int = 720, width: int = 1280) -> tuple[int, float]:
    """(parameters, GFLOPs for one output frame when the network runs at ``height`` × ``width``).

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
