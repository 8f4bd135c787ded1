"""Configuration of the shot-transition detector (:mod:`kinema.models.transitions.model`)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


class Mixer(str, enum.Enum):
    """How the detector's 2-D stages exchange information across frames.

    ``MEAST`` is the paper's block (:class:`kinema.models.transitions.model.MEASTBlock`);
    ``NONE`` leaves the stages purely per-frame (time is seen only by the temporal head);
    ``CONV3D`` puts a plain 3×3×3 convolution where the block would be. The last two are
    the ablation the block is measured against.
    """

    MEAST = "meast"
    NONE = "none"
    CONV3D = "conv3d"


#: Per-frame classes, in the order of the network's logits.
CLASSES = ("none", "cut", "start", "inside", "end")


@dataclass(frozen=True)
class TransitionConfig(ConfigDict):
    """Sizes of :class:`kinema.models.transitions.model.TransitionNet`; a checkpoint stores it."""

    #: Working size every frame is resized to (aspect ignored: transitions are global events).
    height: int = 48
    width: int = 80
    #: Channels of the three 2-D stages (each halves the resolution).
    widths: tuple[int, ...] = (16, 32, 64)
    mixer: Mixer = Mixer.MEAST
    #: The MEAST block's branches as (temporal, spatial) kernel sizes: asymmetric on purpose,
    #: so one branch reaches far in time and none in space, another the reverse.
    branches: tuple[tuple[int, int], ...] = ((3, 1), (1, 3), (3, 3), (7, 1))
    #: Channels of the temporal head, and the dilations of its residual 1-D convolutions.
    head: int = 64
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    #: Frame offsets at which hand-made similarities (mean |Δ|, histogram distance) are fed
    #: to the head, each both ways in time.
    offsets: tuple[int, ...] = (1, 2, 4, 8)

    def __post_init__(self):
        object.__setattr__(self, "mixer", Mixer(self.mixer))  # a checkpoint stores the string
        object.__setattr__(self, "branches", tuple(tuple(b) for b in self.branches))
        if len(self.widths) != 3 or any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be three positive channel counts, got {self.widths}")
        if self.height % 8 or self.width % 8 or self.height < 8 or self.width < 8:
            raise ValueError(f"the working size must be a multiple of 8, got {self.height}x{self.width}")
        if not self.branches or any(k < 1 or k % 2 == 0 for b in self.branches for k in b):
            raise ValueError(f"branch kernels must be odd and positive, got {self.branches}")
        if any(w % len(self.branches) for w in self.widths[1:]):
            raise ValueError(f"widths {self.widths[1:]} must split evenly over {len(self.branches)} branches")

    @property
    def reach(self) -> int:
        """Frames on each side that can change one frame's prediction (an upper bound):
        what a caller overlapping windows must give as context."""
        mixers = 2 * (max(t for t, _ in self.branches) // 2 if self.mixer is Mixer.MEAST else int(self.mixer is Mixer.CONV3D))
        return mixers + max(self.offsets) + 1 + sum(self.dilations) + 1

    @classmethod
    def tiny(cls, **changes) -> TransitionConfig:
        """A few thousand parameters: for tests."""
        return dataclasses.replace(cls(height=24, width=40, widths=(4, 8, 8), branches=((3, 1), (1, 3)), head=8, dilations=(1, 2), offsets=(1, 2)), **changes)
