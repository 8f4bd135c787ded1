"""Configuration of the video-snapshot networks (:mod:`kinema.models.snapshot.model`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kinema.models.checkpoint import ConfigDict


@dataclass(frozen=True)
class SnapshotConfig(ConfigDict):
    """Sizes of :class:`kinema.models.snapshot.model.SnapshotNet`; a checkpoint stores it.

    Both networks work on the 2×2 space-to-depth image (every pixel kept, a quarter of
    the positions): the motion texture the encoder hides is a pixel-level pattern, and
    space-to-depth keeps it intact while making every convolution four times cheaper.
    """

    #: Frames embedded in one snapshot (odd: the snapshot looks like the middle one).
    frames: int = 5
    #: Channels of each motion-attention branch's first convolution.
    attention_width: int = 16
    #: Encoder channels at half, quarter and eighth resolution.
    encoder_widths: tuple[int, int, int] = (32, 64, 96)
    encoder_blocks: int = 4
    #: Decoder channels (all at half resolution) and residual blocks.
    decoder_width: int = 64
    decoder_blocks: int = 8
    #: True when the weights were trained to survive JPEG (metadata for users and the CLI).
    jpeg_robust: bool = False

    def __post_init__(self):
        if self.frames < 3 or self.frames % 2 == 0:
            raise ValueError(f"frames must be odd and ≥ 3, got {self.frames}")
        widths = (self.attention_width, *self.encoder_widths, self.decoder_width)
        if len(self.encoder_widths) != 3 or any(w < 1 for w in widths):
            raise ValueError("widths must be positive (three encoder widths)")
        if self.encoder_blocks < 0 or self.decoder_blocks < 0:
            raise ValueError("block counts must be ≥ 0")

    @property
    def middle(self) -> int:
        return self.frames // 2

    #: Frame sizes are padded to a multiple of this inside the networks.
    multiple = 8

    @classmethod
    def tiny(cls, **changes) -> SnapshotConfig:
        """A few ten thousand parameters: for tests."""
        small = cls(frames=3, attention_width=4, encoder_widths=(8, 16, 16), encoder_blocks=1, decoder_width=16, decoder_blocks=2)
        return dataclasses.replace(small, **changes)
