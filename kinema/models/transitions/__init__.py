"""The shot-transition detector (cuts, fades, dissolves) and its MEAST block."""

from kinema.models.transitions.config import CLASSES, Mixer, TransitionConfig
from kinema.models.transitions.model import MEASTBlock, TransitionNet

__all__ = ["CLASSES", "MEASTBlock", "Mixer", "TransitionConfig", "TransitionNet"]
