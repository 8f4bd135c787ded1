"""GIF colour restoration: the dither classifier routes each GIF to the CCDNet trained for
its kind (dithered or not) and the palette size nearest to its own.

Palette size is what a frame really shows — its count of distinct colours — not the size
of the palette table in the file (encoders often write 256-entry tables for 40 colours).
The nearest level is nearest on a log scale (40 → 32, 100 → 128).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from kinema.io.pixels import to_hwc
from kinema.models.gif2video import CCDNet, DitherNet
from kinema.ops.color import palette_of, project_to_cells, stack_palettes
from kinema.types import BadInputError
from kinema.weights import DITHER, FOLDER

#: A folder of GIF weights holds ``gif-{flat|dither}-{colors}.safetensors`` (named as
#: :func:`kinema.weights.gif_name` names them) and, optionally, the classifier.
CLASSIFIER_FILE = DITHER.path.name
MODEL_GLOB = "gif-*.safetensors"


def count_colors(image: torch.Tensor) -> int:
    """Distinct 8-bit colours of a ``(3, H, W)`` frame."""
    return len(palette_of(to_hwc(image)))


class GifRestorer:
    """Holds the CCDNets (one per kind and level) and the classifier; all in eval mode."""

    def __init__(self, models: Sequence[CCDNet], classifier: DitherNet | None, *, device: str | torch.device = "cpu"):
        if not models:
            raise ValueError("no CCDNet models given")
        self.device = torch.device(device)
        self.models = {(m.config.dithered, m.config.colors): m.to(self.device).eval() for m in models}
        self.classifier = None if classifier is None else classifier.to(self.device).eval()

    @classmethod
    def from_folder(cls, folder: Path | None = None, *, device: str | torch.device = "cpu") -> GifRestorer:
        """Every ``gif-*.safetensors`` in ``folder`` (default: the shipped weights) and its
        ``dither.safetensors`` if present."""
        folder = Path(folder) if folder is not None else FOLDER
        paths = sorted(folder.glob(MODEL_GLOB))
        if not paths:
            raise BadInputError(f"{folder}: no GIF restoration weights ({MODEL_GLOB})")
        classifier = folder / CLASSIFIER_FILE
        return cls(
            [CCDNet.load(p)[0] for p in paths],
            DitherNet.load(classifier)[0] if classifier.exists() else None,
            device=device,
        )

    def levels(self, dithered: bool) -> list[int]:
        return sorted(c for d, c in self.models if d == dithered)

    def pick(self, dithered: bool, colors: int) -> CCDNet:
        """The model for this kind of GIF whose palette size is nearest to ``colors``
        (the other kind's models if this kind has none)."""
        kind = dithered if self.levels(dithered) else not dithered
        best = min(self.levels(kind), key=lambda level: (abs(math.log2(level) - math.log2(max(colors, 2))), level))
        return self.models[(kind, best)]

    @torch.inference_mode()
    def dither_probability(self, frames: Sequence[torch.Tensor]) -> float:
        """How sure the classifier is that these ``(3, H, W)`` frames are dithered (mean of
        per-frame probabilities). Without a classifier: 0.5."""
        if self.classifier is None or not frames:
            return 0.5
        probs = [float(torch.sigmoid(self.classifier(f[None].to(self.device)))[0]) for f in frames]
        return sum(probs) / len(probs)

    @torch.inference_mode()
    def restore(
        self, image: torch.Tensor, model: CCDNet, palette: np.ndarray | None = None, *, consistent: bool = True
    ) -> torch.Tensor:
        """One ``(3, H, W)`` GIF frame → restored ``(3, H, W)`` on the CPU. ``palette``
        ``(K, 3)`` uint8 defaults to the frame's own colours.

        ``consistent`` (models for GIFs without dithering): every restored pixel is moved
        into the palette cell of its GIF colour (:func:`kinema.ops.color.project_to_cells`),
        where its true colour lies; no pixel moves away from the truth."""
        if model.config.dithered:
            return model(image[None].to(self.device), None)[0].cpu()
        palettes = stack_palettes([palette if palette is not None else palette_of(to_hwc(image))])
        restored = model(image[None].to(self.device), palettes.to(self.device))[0].cpu()
        return project_to_cells(restored[None], image[None], palettes)[0] if consistent else restored
