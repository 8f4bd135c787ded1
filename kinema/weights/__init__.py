"""Weights trained by kinema's own scripts and shipped with the package.

Each file is a self-describing safetensors checkpoint (:mod:`kinema.models.checkpoint`):
architecture, config, tensor hash, the command that trained it, a fingerprint of its
training data and its benchmark scores. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent

#: The learned interpolator (``kinema interpolate --engine learned``).
INTERP = FOLDER / "interp.safetensors"
#: GIF restoration: ``gif-{flat|dither}-{colors}.safetensors`` (CCDNet per kind and palette
#: size) and ``dither.safetensors`` (the classifier); see :mod:`kinema.engines.dequantize`.
