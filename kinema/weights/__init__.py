"""Weights trained by kinema's own scripts and shipped with the package.

Each file is a self-describing safetensors checkpoint (:mod:`kinema.models.checkpoint`):
architecture, config, tensor hash, the command that trained it, a fingerprint of its
training data and its benchmark scores. Nothing is ever downloaded.

:data:`SHIPPED` lists every file here with the model class that reads it and what it
serves; ``tests/models/test_shipped.py`` loads each one and checks its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.models.codec import VideoCodec
from kinema.models.deblur import DeblurNet
from kinema.models.gif2video import CCDNet, DitherNet
from kinema.models.interp import InterpNet
from kinema.models.snapshot import SnapshotNet
from kinema.models.transitions import TransitionNet

FOLDER = Path(__file__).resolve().parent

#: The palette sizes a CCDNet is shipped for, per kind (dithered or not).
GIF_LEVELS = (32, 64, 128, 256)
#: Frames per snapshot that a snapshot network is shipped for.
SNAPSHOT_FRAMES = (5, 9)


def gif_name(dithered: bool, colors: int) -> str:
    return f"gif-{'dither' if dithered else 'flat'}-{colors}"


def snapshot_name(frames: int, *, jpeg_robust: bool = False) -> str:
    return f"snapshot-{frames}{'-jpeg' if jpeg_robust else ''}"


@dataclass(frozen=True)
class Shipped:
    """One shipped weight file: ``FOLDER / f"{name}.safetensors"``, read by ``model.load``."""

    name: str
    model: type[torch.nn.Module]
    #: What uses it, for people reading the list.
    serves: str

    @property
    def path(self) -> Path:
        return FOLDER / f"{self.name}.safetensors"

    def load(self, *, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
        """``(model in eval mode, meta)``; the file's arch, config and digest are checked."""
        return self.model.load(self.path, map_location=device)


INTERP = Shipped("interp", InterpNet, "kinema interpolate / pair --engine learned")
INTERP_ADAPTIVE = Shipped("interp-adaptive", InterpNet, "kinema interpolate / pair --quality best: with adaptive warping")
TRANSITIONS = Shipped("transitions", TransitionNet, "kinema cuts, interpolate --scene-cuts auto: shot transitions")
DEBLUR = Shipped("deblur", DeblurNet, "kinema deblur, interpolate --deblur: sharp frames from motion-blurred ones")
CODEC = Shipped("codec", VideoCodec, "kinema codec encode / decode: the learned video codec (.kvc)")
DITHER = Shipped("dither", DitherNet, "kinema gif2video --dither auto: is a GIF dithered?")
GIF = {
    (dithered, colors): Shipped(gif_name(dithered, colors), CCDNet, f"kinema gif2video: {'dithered' if dithered else 'flat'} GIFs of about {colors} colours")
    for dithered in (False, True)
    for colors in GIF_LEVELS
}
SNAPSHOT = {
    (5, False): Shipped(snapshot_name(5), SnapshotNet, "kinema snapshot: 5 frames in one picture"),
    (5, True): Shipped(snapshot_name(5, jpeg_robust=True), SnapshotNet, "kinema snapshot --jpeg-robust: 5 frames, survives JPEG"),
    (9, False): Shipped(snapshot_name(9), SnapshotNet, "kinema snapshot --frames 9"),
}
SHIPPED: tuple[Shipped, ...] = (INTERP, INTERP_ADAPTIVE, TRANSITIONS, DEBLUR, CODEC, DITHER, *GIF.values(), *SNAPSHOT.values())
