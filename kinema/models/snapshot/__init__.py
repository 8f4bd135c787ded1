"""Video snapshot: k frames embedded in one ordinary image, and expanded back."""

from kinema.models.snapshot.config import SnapshotConfig
from kinema.models.snapshot.model import SnapshotNet

__all__ = ["SnapshotConfig", "SnapshotNet"]
