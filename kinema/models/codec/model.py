"""The learned video codec's networks (DVC's design, kinema's form).

An I-frame goes through the image coder. A P-frame is predicted from the previous decoded
frame: the encoder's motion (any estimate; kinema's encoder uses DIS) is compressed by the
motion coder, the decoded motion warps the reference, a small network corrects the warped
frame (motion compensation), and what is left (the residual) is compressed by the residual
coder. Every latent is divided into quality levels by a learned gain per channel (Cui et
al.'s variable-rate gain units): one network serves every level, and each level has its
own densities and integer tables.

The transform coders start where a classical transform coder stands (an orthonormal block
DCT, so a finer quantization always gives a closer reconstruction) and learn from there.
Why not Ballé's convolutional transform (the first design, ``codec-v1``): it keeps fewer
values than the frame has and learns its reconstruction from nothing, which takes far
longer than a CPU can train (docs/models/codec.md).

Shapes: frames ``(N, 3, H, W)`` RGB in [0, 1] with H, W multiples of :data:`STRIDE`;
flows ``(N, 2, H, W)`` pixels; latents ``(N, C·b², H/b, W/b)`` for ``C`` input channels
and ``b = config.block``.
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

#: Frames are padded to multiples of this (the blocks and the compensation's half scale divide it).
STRIDE = 16
#: The three latents a stream carries, in packet order.
KINDS = ("image", "motion", "residual")
#: Orthonormal opponent colours (luma, red–blue, green–magenta): RGB's three planes are
#: strongly correlated, and after this the two colour planes carry little and can be
#: quantized more coarsely.
OPPONENT = torch.tensor([[1, 1, 1], [1, 0, -1], [1, -2, 1]], dtype=torch.float64) / torch.tensor([3, 2, 6], dtype=torch.float64).sqrt()[:, None]


def block_basis(channels: int, block: int) -> torch.Tensor:
    """The orthonormal ``(c·b², c·b²)`` block transform the coders are built on: the opponent colour
    transform (RGB; the identity otherwise) ⊗ the 2-D DCT-II of ``b × b`` blocks, with rows
    and columns in :func:`torch.nn.functional.pixel_unshuffle`'s channel order ``(c, i, j)``."""
    n = torch.arange(block, dtype=torch.float64)
    dct = torch.cos(math.pi * (2 * n[None] + 1) * n[:, None] / (2 * block)) * math.sqrt(2 / block)
    dct[0] /= math.sqrt(2)
    colour = OPPONENT if channels == 3 else torch.eye(channels, dtype=torch.float64)
    return torch.kron(colour, torch.kron(dct, dct)).float()


def _correction(channels: int, hidden: int) -> nn.Sequential:
    """A residual nonlinear map at latent resolution that starts as zero (so a fresh coder is
    the plain block transform), with a 3×3 reach into the neighbouring blocks."""
    net = nn.Sequential(
        nn.Conv2d(channels, hidden, 1), nn.LeakyReLU(0.1), nn.Conv2d(hidden, hidden, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(hidden, channels, 1),
    )  # fmt: skip
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


class BlockAnalysis(nn.Module):
    """``(N, c, H, W) → (N, c·b², H/b, W/b)``: the block transform plus a learned correction.

    The linear transform stays fixed: learned, it drifted from its inverse under the
    noisy rate–distortion gradients (the corrections absorb what a learned basis would add),
    and at the finest levels a small drift costs more than quantization does."""

    def __init__(self, channels: int, block: int, hidden: int):
        super().__init__()
        self.block = block
        self.register_buffer("basis", block_basis(channels, block))
        self.correction = _correction(channels * block * block, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = F.pixel_unshuffle(x, self.block)
        return F.conv2d(blocks, self.basis[:, :, None, None]) + self.correction(blocks)


class BlockSynthesis(nn.Module):
    """``(N, c·b², H/b, W/b) → (N, c, H, W)``: a learned correction, the inverse transform
    (the analysis's transpose), and a learned post-filter at full resolution (starting as
    zero) for what blocks leave: edges across block borders."""

    def __init__(self, channels: int, block: int, hidden: int, post: int):
        super().__init__()
        self.block = block
        self.correction = _correction(channels * block * block, hidden)
        self.register_buffer("basis", block_basis(channels, block).T.contiguous())
        self.post = nn.Sequential(
            nn.Conv2d(channels, post, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(post, post, 3, padding=1), nn.LeakyReLU(0.1), nn.Conv2d(post, channels, 3, padding=1),
        )  # fmt: skip
        nn.init.zeros_(self.post[-1].weight)
        nn.init.zeros_(self.post[-1].bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y = y + self.correction(y)
        x = F.pixel_shuffle(F.conv2d(y, self.basis[:, :, None, None]), self.block)
        return x + self.post(x)


class TransformCoder(nn.Module):
    """Analysis ``(N, c, H, W) → (N, c·b², H/b, W/b)`` and synthesis back."""

    def __init__(self, channels: int, block: int, hidden: int, post: int):
        super().__init__()
        self.analysis = BlockAnalysis(channels, block, hidden)
        self.synthesis = BlockSynthesis(channels, block, hidden, post)


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
        # A fresh network is plain warping: the correction starts at zero.
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, reference: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        warped = backward_warp(reference, flow)
        x = self.inp(torch.cat([warped, reference, flow / self.flow_scale], 1))
        x = self.out(torch.cat([x, F.leaky_relu(self.up(self.down(x)), 0.1)], 1))
        return warped + x


class VideoCodec(Checkpointed, nn.Module):
    """The codec's networks, per-level gains and densities, and the integer tables the
    bitstream codes with (``tables_<kind>``: ``(levels, C, 2·range + 1)`` counts, filled by
    :meth:`freeze_tables` when training ends; all zero until then)."""

    arch = "codec-v2"
    config_class = CodecConfig

    def __init__(self, config: CodecConfig = CodecConfig()):
        super().__init__()
        self.config = cfg = config
        self.coders = nn.ModuleDict({kind: TransformCoder(self.inputs(kind), cfg.block, cfg.hidden, cfg.post) for kind in KINDS})
        self.compensation = Compensation(cfg.compensation, cfg.flow_scale)
        # Uniform quantization with step Δ of an orthonormal transform's coefficients costs
        # Δ²/12 of MSE; at high rate λ·MSE + bpp is least at Δ² = 18 / (λ·ln 2) (three values
        # a pixel). The gains (1/Δ) start there and training moves them.
        start = torch.tensor([0.5 * math.log(v * math.log(2) / 18) for v in cfg.lambdas])
        self.log_gains = nn.ParameterDict()
        self.densities = nn.ModuleDict()
        for kind in KINDS:
            c = self.channels(kind)
            self.log_gains[kind] = nn.Parameter(start[:, None].repeat(1, c))
            self.log_gains[kind + "_inverse"] = nn.Parameter(-start[:, None].repeat(1, c))
            self.densities[kind] = nn.ModuleList(FactorizedDensity(c) for _ in cfg.lambdas)
            self.register_buffer(f"tables_{kind}", torch.zeros(cfg.levels, c, 2 * cfg.range + 1, dtype=torch.int32))

    @staticmethod
    def inputs(kind: str) -> int:
        """Channels of what ``kind``'s coder codes: a flow's two, a frame's or residual's three."""
        return 2 if kind == "motion" else 3

    def channels(self, kind: str) -> int:
        """Latent channels of ``kind``: every value of a block becomes one coefficient."""
        return self.inputs(kind) * self.config.block**2

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        """The latents' ``(h, w)`` for padded frames of ``height × width``."""
        return height // self.config.block, width // self.config.block

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
