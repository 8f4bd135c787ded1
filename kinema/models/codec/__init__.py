"""The learned video codec (DVC's motion + residual coding, kinema's form)."""

from kinema.models.codec.config import CodecConfig
from kinema.models.codec.model import KINDS, STRIDE, VideoCodec

__all__ = ["KINDS", "STRIDE", "CodecConfig", "VideoCodec"]
