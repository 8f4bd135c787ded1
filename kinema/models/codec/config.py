"""Configuration of the learned video codec (:mod:`kinema.models.codec.model`)."""

from __future__ import annotations

from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


@dataclass(frozen=True)
class CodecConfig(ConfigDict):
    """Sizes of :class:`kinema.models.codec.model.VideoCodec`; a checkpoint stores it.

    Three transform coders share one design (four stride-2 convolutions with GDN, so a
    latent pixel covers 16×16 frame pixels): the I-frame coder, the motion coder (a flow
    field in, a flow field out) and the residual coder. Every latent is entropy coded with a
    factorized density per channel and per quality level.
    """

    #: Channels inside the transforms.
    hidden: int = 64
    #: Latent channels of the I-frame and residual coders.
    latent: int = 96
    #: Channels inside the motion coder, and its latent channels.
    motion_hidden: int = 48
    motion_latent: int = 48
    #: Channels of the motion-compensation network at full and half resolution.
    compensation: tuple[int, int] = (32, 64)
    #: The rate–distortion trade-off of each quality level: loss = λ·MSE + bits per pixel
    #: (MSE of [0, 1] RGB). Level 1 is the smallest file.
    lambdas: tuple[float, ...] = (128.0, 256.0, 512.0, 1024.0, 2048.0)
    #: Symbols are integers in [−range, range]; a latent value beyond is clamped (the
    #: encoder reconstructs from the clamped value, so the decoder stays in step).
    range: int = 63
    #: Flow vectors are divided by this before the motion coder sees them.
    flow_scale: float = 8.0

    def __post_init__(self):
        if min(self.hidden, self.latent, self.motion_hidden, self.motion_latent, *self.compensation) < 1:
            raise ValueError("channel counts must be positive")
        object.__setattr__(self, "lambdas", tuple(float(v) for v in self.lambdas))
        if not self.lambdas or any(v <= 0 for v in self.lambdas) or list(self.lambdas) != sorted(self.lambdas):
            raise ValueError(f"lambdas must be positive and increasing, got {self.lambdas}")
        if not 1 <= self.range <= 1024:
            raise ValueError(f"range must be in 1..1024, got {self.range}")
        if self.flow_scale <= 0:
            raise ValueError(f"flow_scale must be positive, got {self.flow_scale}")

    @property
    def levels(self) -> int:
        return len(self.lambdas)

    @classmethod
    def tiny(cls) -> CodecConfig:
        """Small and fast, for tests."""
        return cls(hidden=8, latent=8, motion_hidden=4, motion_latent=4, compensation=(4, 8), lambdas=(256.0, 1024.0), range=15)
