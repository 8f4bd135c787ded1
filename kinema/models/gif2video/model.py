"""CCDNet: compositional colour dequantization (GIF2Video, Wang et al. 2019).

GIF colour quantization ``G = f_C(I)`` maps each pixel to its nearest palette colour. The
paper poses dequantization as ``min_I ‖I − Î‖² + λ‖f_C(I) − G‖²`` and, as in Lucas–Kanade,
improves an estimate step by step: ``I ← I + g(I, G, f_C(I), G − f_C(I))``, where the
linearized update of LK is replaced by a U-Net ``g``. Where the estimate re-quantizes to a
different colour than the GIF shows, ``G − f_C(I)`` says which way to move it.

* Step 1 sees only the GIF (``I`` and ``f_C(I)`` do not exist yet) and has its own U-Net;
  steps 2… share one U-Net.
* For dithered GIFs ``f_C`` is unknown (error diffusion is not a per-pixel map), so that
  model sees ``(I, G)`` only, as in the paper.
* Every update starts at zero (zero-initialized last layer): an untrained net returns the GIF.

Shapes: ``gif`` ``(N, 3, H, W)`` in [0, 1]; ``palettes`` ``(N, K, 3)`` in [0, 1] (see
:func:`kinema.ops.color.stack_palettes`); any ``H, W`` (padded inside).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kinema.models.checkpoint import Checkpointed
from kinema.models.gif2video.config import CCDNetConfig
from kinema.ops.color import requantize

ARCH = "kinema.ccdnet.v1"


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1))


class UNet(nn.Module):
    """A light U-Net on the 2×2 space-to-depth image: ``(N, C, H, W)`` → ``(N, 3, H, W)``.

    Encoder levels halve the size; the decoder upsamples, adds the skip (sums, not
    concatenations: half the cost of the decoder convolutions) and convolves.
    """

    def __init__(self, inputs: int, widths: tuple[int, ...]):
        super().__init__()
        self.head = nn.Sequential(_conv(4 * inputs, widths[0]), _conv(widths[0], widths[0]))
        self.down = nn.ModuleList(
            nn.Sequential(_conv(a, b, stride=2), _conv(b, b)) for a, b in zip(widths, widths[1:])
        )
        self.lateral = nn.ModuleList(nn.Conv2d(b, a, 1) for a, b in zip(widths, widths[1:]))
        self.merge = nn.ModuleList(_conv(a, a) for a in widths[:-1])
        self.tail = nn.Conv2d(widths[0], 12, 3, 1, 1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.head(F.pixel_unshuffle(x, 2))]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for lateral, merge in zip(reversed(self.lateral), reversed(self.merge)):
            skip = skips.pop()
            y = merge(skip + F.interpolate(lateral(y), size=skip.shape[-2:], mode="bilinear", align_corners=False))
        return F.pixel_shuffle(self.tail(y), 2)


class CCDNet(Checkpointed, nn.Module):
    """See the module docstring."""

    arch = ARCH
    config_class = CCDNetConfig

    def __init__(self, config: CCDNetConfig = CCDNetConfig()):
        super().__init__()
        self.config = config
        self.first = UNet(3, config.widths)
        per_step = 6 if config.dithered else 12  # (I, G) or (I, G, f_C(I), G − f_C(I))
        self.refine = UNet(per_step, config.widths) if config.steps > 1 else None

    def estimates(self, gif: torch.Tensor, palettes: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The estimate after each step, ``steps × (N, 3, H, W)`` (unclamped; for training).

        ``palettes`` is required unless the model is for dithered GIFs.
        """
        if not self.config.dithered and palettes is None and self.config.steps > 1:
            raise ValueError("a CCDNet for non-dithered GIFs needs the GIF palettes")
        h, w = gif.shape[-2:]
        m = self.config.multiple
        pad = (0, -w % m, 0, -h % m)
        g = F.pad(gif, pad, mode="replicate") if any(pad) else gif
        out = [g + self.first(g)]
        for _ in range(self.config.steps - 1):
            current = out[-1]
            if self.config.dithered:
                inputs = torch.cat([current, g], 1)
            else:
                # f_C of the padded estimate: the padding repeats edge pixels, which re-quantize
                # like those pixels, so it adds no false disagreement.
                again = requantize(current, palettes, hints=g)
                inputs = torch.cat([current, g, again, g - again], 1)
            out.append(current + self.refine(inputs))
        return [x[..., :h, :w] for x in out]

    def forward(self, gif: torch.Tensor, palettes: torch.Tensor | None = None) -> torch.Tensor:
        """The restored frames ``(N, 3, H, W)``, clamped to [0, 1]."""
        return self.estimates(gif, palettes)[-1].clamp(0, 1)
