"""GIF colour dequantization (CCDNet) and the classifier (how was this GIF made?) that routes GIFs to it."""

from kinema.models.gif2video.classifier import DitherNet
from kinema.models.gif2video.config import CCDNetConfig, DitherConfig, GifKind
from kinema.models.gif2video.model import CCDNet

__all__ = ["CCDNet", "CCDNetConfig", "DitherConfig", "DitherNet", "GifKind"]
