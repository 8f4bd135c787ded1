"""GIF colour dequantization (CCDNet) and the dither classifier that routes GIFs to it."""

from kinema.models.ccdnet.classifier import DitherNet
from kinema.models.ccdnet.config import CCDNetConfig, DitherConfig
from kinema.models.ccdnet.model import CCDNet

__all__ = ["CCDNet", "CCDNetConfig", "DitherConfig", "DitherNet"]
