"""The learned video codec's networks (DVC's design, kinema's form).

An I-frame goes through the image coder. A P-frame is predicted from the previous decoded
frame: the encoder's motion (any estimate; kinema's encoder uses DIS) is compressed by the
motion coder, the decoded motion warps the reference, a small network corrects the warped
frame (motion compensation), and what is left (the residual) is compressed by the residual
coder. Every latent is divided into quality levels by a learned gain per channel (Cui et
al.'s variable-rate gain units): one network serves every level, and each level has its
own densities and integer tables.

Shapes: frames ``(N, 3, H, W)`` RGB in [0, 1] with H, W multiples of :data:`STRIDE`;
flows ``(N, 2, H, W)`` pixels; latents ``(N, C, H/16, W/16)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.codec.config import CodecConfig
from kinema.models.codec.entropy import FactorizedDensity, to_counts
from kinema.ops.warp import backward_warp

#: Frames are padded to multiples of this (four stride-2 stages).
STRIDE = 16
#: The latents' scale at the middle level when training starts.
INITIAL_GAIN = 32.0
#: The three latents a stream carries, in packet order.
KINDS = ("image", "motion", "residual")


class GDN(nn.Module):
    """Generalized divisive normalization (Ballé et al.): ``x / sqrt(β + Γ·x²)`` per pixel,
    or its approximate inverse ``x · sqrt(β + Γ·x²)`` in a synthesis transform."""

    def __init__(self, channels: int, *, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.beta = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(0.1 * torch.eye(channels) + 1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        norm = F.conv2d(x * x, self.gamma.abs().reshape(c, c, 1, 1), self.beta.abs() + 1e-6)
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)


def _down(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 5, stride=2, padding=2)


def _up(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)


class TransformCoder(nn.Module):
    """Analysis ``(N, cin, H, W) → (N, latent, H/16, W/16)`` and synthesis back to ``cout``."""

    def __init__(self, cin: int, cout: int, hidden: int, latent: int):
        super().__init__()
        self.analysis = nn.Sequential(
            _down(cin, hidden), GDN(hidden), _down(hidden, hidden), GDN(hidden),
            _down(hidden, hidden), GDN(hidden), _down(hidden, latent),
        )  # fmt: skip
        self.synthesis = nn.Sequential(
            _up(latent, hidden), GDN(hidden, inverse=True), _up(hidden, hidden), GDN(hidden, inverse=True),
            _up(hidden, hidden), GDN(hidden, inverse=True), _up(hidden, cout),
        )  # fmt: skip


class Compensation(nn.Module):
    """Motion compensation: the warped reference corrected by a two-scale network that
    also sees the reference and the flow (``(N, 8, H, W)`` in, ``(N, 3, H, W)`` out)."""

    def __init__(self, widths: tuple[int, int], flow_scale: float):
        super().__init__()
        full, half = widths
        self.flow_scale = flow_scale
        self.inp = nn.Sequential(nn.Conv2d(8, full, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(full, full, 3, padding=1), nn.LeakyReLU(0.1))
        self.down = nn.Sequential(nn.Conv2d(full, half, 3, stride=2, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(half, half, 3, padding=1), nn.LeakyReLU(0.1))
        self.up = nn.ConvTranspose2d(half, full, 4, stride=2, padding=1)
        self.out = nn.Sequential(nn.Conv2d(2 * full, full, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(full, 3, 3, padding=1))

    def forward(self, reference: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        warped = backward_warp(reference, flow)
        x = self.inp(torch.cat([warped, reference, flow / self.flow_scale], 1))
        x = self.out(torch.cat([x, F.leaky_relu(self.up(self.down(x)), 0.1)], 1))
        return warped + x


class VideoCodec(Checkpointed, nn.Module):
    """The codec's networks, per-level gains and densities, and the integer tables the
    bitstream codes with (``tables_<kind>``: ``(levels, C, 2·range + 1)`` counts, filled by
    :meth:`freeze_tables` when training ends; all zero until then)."""

    arch = "codec-v1"
    config_class = CodecConfig

    def __init__(self, config: CodecConfig = CodecConfig()):
        super().__init__()
        self.config = cfg = config
        self.coders = nn.ModuleDict({
            "image": TransformCoder(3, 3, cfg.hidden, cfg.latent),
            "motion": TransformCoder(2, 2, cfg.motion_hidden, cfg.motion_latent),
            "residual": TransformCoder(3, 3, cfg.hidden, cfg.latent),
        })  # fmt: skip
        self.compensation = Compensation(cfg.compensation, cfg.flow_scale)
        # Finer quantization for larger λ: the gains start √λ apart around the middle level,
        # and large enough that a fresh network's latents (a few hundredths) do not all round
        # to zero, which would leave the synthesis nothing to learn from.
        middle = math.exp(sum(math.log(v) for v in cfg.lambdas) / cfg.levels)
        start = torch.tensor([math.log(INITIAL_GAIN) + 0.5 * math.log(v / middle) for v in cfg.lambdas])
        self.log_gains = nn.ParameterDict()
        self.densities = nn.ModuleDict()
        for kind in KINDS:
            c = self.channels(kind)
            self.log_gains[kind] = nn.Parameter(start[:, None].repeat(1, c))
            self.log_gains[kind + "_inverse"] = nn.Parameter(-start[:, None].repeat(1, c))
            self.densities[kind] = nn.ModuleList(FactorizedDensity(c) for _ in cfg.lambdas)
            self.register_buffer(f"tables_{kind}", torch.zeros(cfg.levels, c, 2 * cfg.range + 1, dtype=torch.int32))

    def channels(self, kind: str) -> int:
        return self.config.motion_latent if kind == "motion" else self.config.latent

    def analyse(self, kind: str, x: torch.Tensor, level: int) -> torch.Tensor:
        """The latent of ``x`` at quality ``level`` (0-based), before rounding."""
        # Zero-centred inputs: frames and residuals both start near the transforms' origin.
        x = x / self.config.flow_scale if kind == "motion" else x - 0.5 if kind == "image" else x
        gain = self.log_gains[kind][level].exp()
        return self.coders[kind].analysis(x) * gain[None, :, None, None]

    def synthesise(self, kind: str, y: torch.Tensor, level: int) -> torch.Tensor:
        """What a rounded latent ``y`` decodes to (a frame, a flow or a residual)."""
        gain = self.log_gains[kind + "_inverse"][level].exp()
        x = self.coders[kind].synthesis(y * gain[None, :, None, None])
        return x * self.config.flow_scale if kind == "motion" else x + 0.5 if kind == "image" else x

    def density(self, kind: str, level: int) -> FactorizedDensity:
        return self.densities[kind][level]

    def table(self, kind: str, level: int) -> torch.Tensor:
        """Integer counts ``(C, 2·range + 1)`` for ``kind`` at ``level``."""
        return getattr(self, f"tables_{kind}")[level]

    @property
    def frozen(self) -> bool:
        """Whether the integer tables are filled (a model without them cannot write streams)."""
        return all(bool(getattr(self, f"tables_{kind}").sum() > 0) for kind in KINDS)

    @torch.no_grad()
    def freeze_tables(self, histograms: dict[str, torch.Tensor] | None = None, prior: float = 256.0) -> None:
        """Fill the integer tables (once, when training ends) from the densities, or from
        ``histograms`` (``{kind: (levels, C, 2·range + 1)}`` symbol counts of the finished
        encoder on training data) with the density as a prior worth ``prior`` samples per
        channel: the tables then fit the symbols the encoder really makes, which the
        densities, trained through noise, learn only slowly."""
        for kind in KINDS:
            tables = getattr(self, f"tables_{kind}")
            for level in range(self.config.levels):
                pmf = self.density(kind, level).pmf(self.config.range)
                if histograms is not None:
                    counts = histograms[kind][level].double()
                    pmf = (counts + prior * pmf) / (counts.sum(1, keepdim=True) + prior)
                tables[level] = to_counts(pmf).to(torch.int32)
