"""kinema: synthesize video frames from motion."""

from kinema.types import BadInputError, Frame, KinemaError, MediaInfo, MediaKind

__version__ = "0.1.0"
__all__ = ["BadInputError", "Frame", "KinemaError", "MediaInfo", "MediaKind", "__version__"]
