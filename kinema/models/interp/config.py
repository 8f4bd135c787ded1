"""Configuration of :class:`kinema.models.interp.model.InterpNet`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


@dataclass(frozen=True)
class InterpConfig(ConfigDict):
    """Sizes of the interpolator. Frozen: a checkpoint stores it and must match it."""

    #: Downscale factor of each flow level, coarse to fine (each refines the previous);
    #: a level works at 1/(2·scale) inside and answers at 1/scale.
    #: The default stops at 1/2: with classical flows as the guide, a full-resolution
    #: level costs more time than the 720p budget allows (``docs/models/interp.md``).
    scales: tuple[int, ...] = (4, 2)
    #: Channels of each flow level's convolutions.
    flow_widths: tuple[int, ...] = (48, 32)
    #: Convolutions per flow level (after its stride-2 entry convolution).
    flow_depth: int = 3
    #: Context feature channels (warped with the frames, as in zoom-in-to-check).
    context: int = 8
    #: Channels and kernel of the synthesis convolutions (the paper uses 3 layers of 9×9;
    #: 9×9 layers cost ~100 GFLOPs at 720p, far too slow for a CPU).
    synth_width: int = 16
    synth_kernel: int = 3
    synth_layers: int = 3
    #: σ of the confidence gate (0: off): every correction — to the flows, the mask and
    #: the residual — is scaled by ``1 − exp(−|g(a) − g(b)| / σ)`` (dilated over 7×7),
    #: where ``g`` warps by the guide's flows. Where the guide already brings both frames
    #: into agreement the classical answer stands; a still scene is left untouched.
    gate: float = 0.02
    #: Side k of the adaptive warping kernels (MEMC-Net; 0: off): each output pixel mixes
    #: k×k bilinear samples around its flow-displaced position, with weights predicted per
    #: pixel (a delta kernel plus a learned zero-sum correction) instead of taking one.
    adaptive: int = 0
    #: Learn a per-pixel priority (DAIN's depth order, without a depth network): the flows
    #: between the frames are projected to t inside the network, and where projected pixels
    #: collide the one whose photo-consistency × exp(priority) is higher wins.
    priority: bool = False

    def __post_init__(self):
        if len(self.scales) != len(self.flow_widths) or not self.scales:
            raise ValueError("scales and flow_widths must be non-empty and the same length")
        if any(s < 1 for s in self.scales) or list(self.scales) != sorted(self.scales, reverse=True):
            raise ValueError(f"scales must be ≥ 1 and coarse to fine, got {self.scales}")
        if self.synth_kernel % 2 == 0:
            raise ValueError("synth_kernel must be odd")
        if self.synth_layers < 2:
            raise ValueError("synth_layers must be at least 2")
        if self.gate < 0:
            raise ValueError("gate must be ≥ 0")
        if self.adaptive < 0 or (self.adaptive and self.adaptive % 2 == 0):
            raise ValueError(f"adaptive must be 0 (off) or an odd kernel side, got {self.adaptive}")

    @classmethod
    def tiny(cls) -> InterpConfig:
        """A few thousand parameters: for tests."""
        return cls(scales=(2, 1), flow_widths=(16, 12), flow_depth=1, context=4, synth_width=8, synth_kernel=3, synth_layers=2)

    def replace(self, **changes) -> InterpConfig:
        """A copy with some fields changed, e.g. ``config.replace(adaptive=3)``."""
        return dataclasses.replace(self, **changes)
