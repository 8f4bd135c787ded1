"""Configurations of the GIF colour-dequantization network and the dither classifier."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


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

    def __post_init__(self):
        if not self.widths or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")

    @classmethod
    def tiny(cls) -> DitherConfig:
        return cls(widths=(8, 8))

