"""The blurry-video network (BIN's pyramid and recurrent modules, kinema's form)."""

from kinema.models.deblur.config import DeblurConfig
from kinema.models.deblur.model import DeblurNet

__all__ = ["DeblurConfig", "DeblurNet"]
