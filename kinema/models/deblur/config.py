"""Configuration of the blurry-video network (:mod:`kinema.models.deblur.model`)."""

from __future__ import annotations

from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


@dataclass(frozen=True)
class DeblurConfig(ConfigDict):
    """Sizes of :class:`kinema.models.deblur.model.DeblurNet`; a checkpoint stores it.

    Cost grows with ``widths`` (the spatial side of the pyramid) and ``scope`` (its
    temporal side: how many blurry neighbours on each side of a frame are aligned to it).
    """

    #: Channels at full, half and quarter resolution.
    widths: tuple[int, int, int] = (32, 64, 96)
    #: Residual blocks at quarter resolution (the receptive field long blur streaks need).
    blocks: int = 4
    #: Channels of the recurrent state carried from frame to frame (quarter resolution);
    #: 0 turns the recurrent module off.
    hidden: int = 32
    #: Blurry neighbours per side aligned to the frame being restored (0: the frame alone).
    scope: int = 1
    #: Flow vectors are divided by this before the network sees them.
    flow_scale: float = 16.0
    #: Where the frame is sampled along each pixel's own motion, as fractions of the motion
    #: over one frame interval (each taken both ways): the streak a blurred pixel is the
    #: average of, laid out as channels, so undoing it is a per-pixel 1-D filter.
    streak: tuple[float, ...] = (0.125, 0.25, 0.375, 0.5, 0.75)

    def __post_init__(self):
        if len(self.widths) != 3 or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be three positive channel counts, got {self.widths}")
        if self.blocks < 0 or self.hidden < 0 or self.scope not in (0, 1, 2):
            raise ValueError(f"blocks and hidden must be non-negative and scope 0, 1 or 2; got {self.blocks}, {self.hidden}, {self.scope}")
        if self.flow_scale <= 0:
            raise ValueError(f"flow_scale must be positive, got {self.flow_scale}")
        object.__setattr__(self, "streak", tuple(float(s) for s in self.streak))
        if any(s <= 0 for s in self.streak):
            raise ValueError(f"streak offsets must be positive, got {self.streak}")

    @property
    def neighbours(self) -> int:
        return 2 * self.scope

    @property
    def offsets(self) -> tuple[float, ...]:
        """The streak's sampling offsets, both ways: ``−s₁, s₁, −s₂, s₂, …``."""
        return tuple(sign * s for s in self.streak for sign in (-1, 1))

    @classmethod
    def tiny(cls) -> DeblurConfig:
        """Small and fast, for tests."""
        return cls(widths=(4, 8, 8), blocks=1, hidden=4, streak=(0.25, 0.5))

    @classmethod
    def best(cls) -> DeblurConfig:
        """Wider, and two neighbours on each side."""
        return cls(widths=(48, 96, 128), blocks=6, hidden=48, scope=2)
