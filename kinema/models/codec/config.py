"""Configuration of the learned video codec (:mod:`kinema.models.codec.model`)."""

from __future__ import annotations

from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


@dataclass(frozen=True)
class CodecConfig(ConfigDict):
    """Sizes of :class:`kinema.models.codec.model.VideoCodec`; a checkpoint stores it.

    Three transform coders share one design: the I-frame coder, the motion coder (a flow
    field in, a flow field out) and the residual coder. Each cuts its input into
    ``block × block`` blocks and maps every block to as many coefficients as it has values
    (a latent pixel holds ``channels · block²`` of them), through the fixed orthonormal 2-D
    DCT (with an opponent colour transform for RGB), a small learned nonlinear correction
    on each side, and a learned full-resolution post-filter.
    Every latent is entropy coded with a factorized density per channel and quality level.
    """

    #: Side of the blocks a latent pixel covers (divides the frame padding, 16).
    block: int = 8
    #: Channels of the nonlinear corrections beside the linear transforms (latent resolution).
    hidden: int = 96
    #: Channels of the post-filter after each synthesis (full resolution).
    post: int = 24
    #: Channels of the motion-compensation network at full and half resolution.
    compensation: tuple[int, int] = (32, 64)
    #: The rate–distortion trade-off of each quality level: loss = λ·MSE + bits per pixel
    #: (MSE of [0, 1] RGB). Level 1 is the smallest file.
    lambdas: tuple[float, ...] = (256.0, 768.0, 2304.0, 6912.0, 20736.0)
    #: Symbols are integers in [−range, range]; a latent value beyond is clamped (the
    #: encoder reconstructs from the clamped value, so the decoder stays in step).
    range: int = 255
    #: Flow vectors are divided by this before the motion coder sees them.
    flow_scale: float = 8.0

    def __post_init__(self):
        if min(self.hidden, self.post, *self.compensation) < 1:
            raise ValueError("channel counts must be positive")
        if self.block not in (1, 2, 4, 8, 16):
            raise ValueError(f"block must divide 16, got {self.block}")
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
        return cls(block=4, hidden=8, post=4, compensation=(4, 8), lambdas=(256.0, 1024.0), range=15)
