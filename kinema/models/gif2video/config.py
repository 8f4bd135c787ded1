"""Configurations of the GIF colour-dequantization network and the dither classifier."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


class GifKind(enum.IntEnum):
    """How a GIF's encoder mapped pixels onto its palette (the classifier's classes, in order)."""

    #: Each pixel takes its nearest palette colour: ``G = f_C(I)`` holds per pixel.
    NONE = 0
    #: Error diffusion (Floyd–Steinberg, Sierra…): each pixel's error is pushed onto its neighbours.
    DIFFUSION = 1
    #: Ordered (Bayer) dithering: a fixed threshold pattern added before the mapping.
    ORDERED = 2

    @property
    def dithered(self) -> bool:
        return self is not GifKind.NONE


@dataclass(frozen=True)
class CCDNetConfig(ConfigDict):
    """Sizes of :class:`kinema.models.gif2video.model.CCDNet`; a checkpoint stores it.

    ``dithered`` and ``colors`` say which GIFs the weights are for: a dithered GIF's pixels
    are not a per-pixel function of the source, so that model does not see the
    re-quantized estimate (the paper's choice), and ``colors`` is the palette size it was
    trained on (the restorer picks the nearest one for a GIF).
    """

    #: Channels of each U-Net level. Level 0 works at half resolution on the
    #: space-to-depth input (every input pixel kept, a quarter of the positions: this is
    #: what lets a 256×256 frame run at ≥ 30 frames/s on two cores); each next level halves again.
    widths: tuple[int, ...] = (16, 32, 64, 64)
    #: Unrolled steps. Step 1 has its own U-Net (it sees only the GIF); steps 2… share one.
    steps: int = 2
    dithered: bool = False
    colors: int = 32

    def __post_init__(self):
        if not self.widths or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        if self.steps < 1:
            raise ValueError(f"steps must be ≥ 1, got {self.steps}")
        if not 2 <= self.colors <= 256:
            raise ValueError(f"colors must be in 2..256, got {self.colors}")

    @property
    def multiple(self) -> int:
        """Frame sizes are padded to a multiple of this."""
        return 2 ** len(self.widths)

    @classmethod
    def tiny(cls, **changes) -> CCDNetConfig:
        """A few thousand parameters: for tests."""
        return dataclasses.replace(cls(widths=(8, 16), steps=2), **changes)


@dataclass(frozen=True)
class DitherConfig(ConfigDict):
    """Sizes of :class:`kinema.models.gif2video.classifier.DitherNet`."""

    widths: tuple[int, ...] = (16, 32, 32)
    #: 1: one logit, dithered or not (the first shipped classifier); 3: one per
    #: :class:`GifKind`, how the GIF was made.
    classes: int = 1
    #: How the per-place logits become the frame's: ``"mean"`` (the first shipped files) or
    #: ``"logmeanexp"``, log of the mean of their exponentials, which a few places of
    #: strong evidence can decide (faint dithering shows only where the picture is smooth).
    pooling: str = "mean"

    def __post_init__(self):
        if not self.widths or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        if self.pooling not in ("mean", "logmeanexp"):
            raise ValueError(f"pooling must be 'mean' or 'logmeanexp', got {self.pooling!r}")
        if self.classes not in (1, len(GifKind)):
            raise ValueError(f"classes must be 1 or {len(GifKind)}, got {self.classes}")

    @classmethod
    def tiny(cls, **changes) -> DitherConfig:
        return dataclasses.replace(cls(widths=(8, 8)), **changes)

