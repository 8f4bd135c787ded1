"""The learned frame interpolator (zoom-in-to-check design, RIFE-style flow estimation)."""

from kinema.models.interp.config import InterpConfig
from kinema.models.interp.model import InterpNet

__all__ = ["InterpConfig", "InterpNet"]
