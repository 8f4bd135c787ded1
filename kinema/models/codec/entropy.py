"""Learned probability models for quantized latents, and the integer tables the bitstream uses.

:class:`FactorizedDensity` is the fully factorized density of Ballé et al. (2018, appendix
6.1): per channel, a small monotone network gives the cumulative distribution ``c(x)``, and a
symbol ``k`` has probability ``c(k + ½) − c(k − ½)``. Training uses it directly as the rate
(bits = −log₂ p). The bitstream never evaluates it: :meth:`FactorizedDensity.counts` turns it
into integer frequency tables once, when a model is finished, and those tables are stored
in the weight file. The entropy coder reads only integers, so a float that rounds
differently on another machine cannot desynchronize encoder and decoder.

Shapes: latents ``(N, C, h, w)``; tables ``(C, 2·range + 1)`` int64 counts summing to
:data:`TOTAL` per channel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Each channel's counts sum to this (the range coder's 24-bit precision, every symbol at
#: least 1): a latent channel that is almost always zero then costs almost nothing.
TOTAL = 1 << 24
_FILTERS = (3, 3, 3)
_FLOOR = 1e-9


class FactorizedDensity(nn.Module):
    """Per-channel learned densities of ``channels`` independent channels."""

    def __init__(self, channels: int, init_scale: float = 10.0):
        super().__init__()
        dims = (1, *_FILTERS, 1)
        scale = init_scale ** (1 / (len(dims) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(dims) - 1):
            init = math.log(math.expm1(1 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(dims) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))
        self.channels = channels

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the cumulative distribution at ``x`` ``(C, 1, n)`` → ``(C, 1, n)``."""
        for i, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = torch.matmul(F.softplus(matrix), x) + bias
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def likelihood(self, y: torch.Tensor) -> torch.Tensor:
        """Probability of the unit interval around each value of ``y`` ``(N, C, h, w)``."""
        n, c, h, w = y.shape
        flat = y.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower, upper = self.logits(flat - 0.5), self.logits(flat + 0.5)
        # Subtract on the side of the sigmoid where it is not saturated (precision in the tails).
        sign = -torch.sign(lower + upper).detach()
        p = (torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower)).abs().clamp_min(_FLOOR)
        return p.reshape(c, n, h, w).permute(1, 0, 2, 3)

    def bits(self, y: torch.Tensor) -> torch.Tensor:
        """Total bits of ``y`` under the density (a scalar)."""
        return -torch.log2(self.likelihood(y)).sum()

    @torch.no_grad()
    def pmf(self, half_range: int) -> torch.Tensor:
        """Probabilities ``(C, 2·half_range + 1)`` float64 of the symbols −half_range…half_range;
        the two end symbols take their tails' mass (values beyond are clamped to them)."""
        grid = torch.arange(-half_range, half_range + 1, dtype=torch.float64)
        edges = torch.cat([grid - 0.5, grid[-1:] + 0.5]).float()
        cdf = torch.sigmoid(self.logits(edges.expand(self.channels, 1, -1)))[:, 0].double()
        cdf[:, 0], cdf[:, -1] = 0.0, 1.0
        pmf = (cdf[:, 1:] - cdf[:, :-1]).clamp_min(0)
        return pmf / pmf.sum(1, keepdim=True)

    def counts(self, half_range: int) -> torch.Tensor:
        """:meth:`pmf` as integer tables (:func:`to_counts`)."""
        return to_counts(self.pmf(half_range))


def to_counts(pmf: torch.Tensor) -> torch.Tensor:
    """Probabilities ``(C, K)`` as integer frequencies, each ≥ 1, summing to :data:`TOTAL`."""
    pmf = pmf.double() / pmf.double().sum(1, keepdim=True)
    spare = TOTAL - pmf.shape[1]  # one count reserved for every symbol
    counts = 1 + torch.floor(pmf * spare).long()
    # Hand the rounding remainder to each channel's most likely symbol.
    top = counts.argmax(1)
    counts[torch.arange(pmf.shape[0]), top] += TOTAL - counts.sum(1)
    return counts


def histogram(symbols: torch.Tensor, half_range: int) -> torch.Tensor:
    """How often each symbol occurs per channel: ``(N, C, h, w)`` integers → ``(C, 2·half_range + 1)``."""
    c = symbols.shape[1]
    index = (symbols.long().clamp(-half_range, half_range) + half_range).transpose(0, 1).reshape(c, -1)
    counts = torch.zeros(c, 2 * half_range + 1, dtype=torch.float64)
    return counts.scatter_add_(1, index, torch.ones_like(index, dtype=torch.float64))


def table_bits(symbols: torch.Tensor, counts: torch.Tensor, half_range: int) -> torch.Tensor:
    """Bits the integer tables spend on ``symbols`` ``(N, C, h, w)`` (ideal code length;
    the range coder adds a few bytes per packet)."""
    probs = counts.double() / counts.sum(1, keepdim=True)
    index = (symbols.long() + half_range).permute(1, 0, 2, 3).reshape(counts.shape[0], -1)
    return -torch.log2(torch.gather(probs, 1, index)).sum()
