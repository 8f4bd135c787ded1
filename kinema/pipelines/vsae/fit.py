"""A video and the autoencoder fit to it: reading the footage, fitting, the model file.

The whole video is held in memory, as uint8 at the working size (long side 256 by
default: 100 frames of 256×144 are 11 MB), because fitting visits every frame many
times. A model file records what it was fit on — the source's sha256, frame count, rate
and the working size — and every command that takes a model and a video refuses a video
that is not that one (:class:`ModelMismatchError`), before decoding it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from kinema import __version__
from kinema.io.atomic import check_output
from kinema.io.probe import open_reader, probe
from kinema.models.video_ae import VideoAE, VideoAEConfig
from kinema.ops.resize import fit_size, resize
from kinema.train.video_ae import FitConfig, FitReport, FitStatus, as_float, fit
from kinema.types import BadInputError, Frame, MediaInfo, ModelMismatchError


def source_fingerprint(path: Path) -> str:
    """sha256 of the source's bytes (an image-sequence folder: of its files' names and
    bytes, in name order). Reads the whole input once; about 1 s per GB."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(f.name.encode() + b"\0")
        with f.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Footage:
    """Every frame of a video at the working size, with its timing."""

    #: ``(N, 3, h, w)`` uint8.
    frames: torch.Tensor
    #: The source frames' own times (``pts``, ``duration``), in seconds.
    times: tuple[tuple[Fraction, Fraction], ...]
    info: MediaInfo
    fingerprint: str

    @property
    def size(self) -> tuple[int, int]:
        return int(self.frames.shape[-2]), int(self.frames.shape[-1])

    def as_float(self, index: slice | list[int] = slice(None)) -> torch.Tensor:
        return as_float(self.frames[index])

    def frame(self, i: int, image: torch.Tensor | None = None) -> Frame:
        """Source frame ``i`` (or ``image`` in its place) as a :class:`Frame`."""
        pts, duration = self.times[i]
        return Frame(image=self.as_float([i])[0] if image is None else image, pts=pts, duration=duration, index=i)


def read_footage(source: Path, *, size: tuple[int, int] | None = None, max_side: int = 256, fps: Fraction | None = None, fingerprint: str | None = None) -> Footage:
    """All frames of ``source``, scaled to ``size`` (h, w) or to fit ``max_side``.

    Alpha is dropped (the autoencoder sees RGB). Raises :class:`BadInputError` for an
    unreadable or empty input.
    """
    reader = open_reader(Path(source), fps=fps)
    info = reader.info
    h, w = size or fit_size(info.height, info.width, max_side)
    frames, times = [], []
    for frame in reader:
        frames.append(resize(frame.image[None], h, w).mul(255).round().clamp(0, 255).to(torch.uint8))
        times.append((frame.pts, frame.duration))
    if not frames:
        raise BadInputError(f"{source}: no frames")
    return Footage(frames=torch.cat(frames), times=tuple(times), info=info, fingerprint=fingerprint or source_fingerprint(source))


@dataclass(frozen=True)
class FitVideoConfig:
    #: Frames are scaled so the longer side is at most this before fitting.
    max_side: int = 256
    model: VideoAEConfig = field(default_factory=VideoAEConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    #: Frame rate for an image-sequence input that has no timing sidecar.
    source_fps: Fraction | None = None
    #: Continue from a saved training state of the same fit, if one exists.
    resume: bool = True
    overwrite: bool = False

    def __post_init__(self):
        if self.max_side < 16:
            raise ValueError(f"max_side must be at least 16, got {self.max_side}")


@dataclass(frozen=True)
class FitVideoResult:
    output: Path
    source: MediaInfo
    frames: int
    size: tuple[int, int]
    report: FitReport
    seconds: float


def state_path(output: Path) -> Path:
    """Where an interrupted fit of ``output`` keeps its training state."""
    return Path(output).with_name(Path(output).stem + ".fit-state.safetensors")


def fit_video(
    source: Path,
    output: Path,
    config: FitVideoConfig = FitVideoConfig(),
    *,
    device: torch.device | str = "cpu",
    progress: Callable[[FitStatus], None] | None = None,
) -> FitVideoResult:
    """Fit an autoencoder to every frame of ``source`` and write it to ``output``
    (safetensors, with the source's description and the reconstruction PSNR)."""
    started = time.perf_counter()
    source, output = Path(source), Path(output)
    if output.suffix != ".safetensors":
        raise BadInputError(f"{output}: a model is written as .safetensors")
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    if not output.parent.is_dir():  # found now, not when the first state is saved
        raise BadInputError(f"output folder {output.parent} does not exist")
    footage = read_footage(source, max_side=config.max_side, fps=config.source_fps)
    h, w = footage.size
    tag = {"source": footage.fingerprint, "size": [h, w], "frames": len(footage.frames)}
    state = state_path(output)
    if not config.resume:
        state.unlink(missing_ok=True)
    net, report = fit(footage.frames, config.model, config.fit, device=device, state=state, tag=tag, progress=progress)
    info = footage.info
    meta = {
        "source": {
            "name": source.name,
            "sha256": footage.fingerprint,
            "frames": len(footage.frames),
            "fps": str(info.fps or info.average_fps),
            "width": info.width,
            "height": info.height,
        },
        "size": [h, w],
        "max_side": config.max_side,
        "fit": asdict(config.fit),
        "steps": report.steps,
        "epochs": round(report.epochs, 2),
        "seconds": round(report.seconds, 1),
        "psnr": round(report.psnr, 3),
        "worst_psnr": round(min(report.frame_psnr), 3),
        "device": str(device),
        "kinema": __version__,
    }
    check_output(output, overwrite=config.overwrite, inputs=(source,))  # it may have appeared meanwhile
    net.to("cpu").save(output, **meta)
    return FitVideoResult(output=output, source=info, frames=len(footage.frames), size=(h, w), report=report, seconds=time.perf_counter() - started)


@dataclass
class VideoModel:
    """A fit autoencoder and what its file says it was fit on."""

    net: VideoAE
    meta: dict
    path: Path

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.meta["size"]
        return int(h), int(w)

    def check(self, source: Path, fingerprint: str) -> None:
        fit_on = self.meta["source"]
        if fingerprint != fit_on["sha256"]:
            raise ModelMismatchError(
                f"{self.path} was fit on {fit_on['name']} ({fit_on['frames']} frames, sha256 {fit_on['sha256'][:12]}…), "
                f"not on {source} (sha256 {fingerprint[:12]}…); fit a model to it with 'kinema vsae fit'"
            )


def load_video_model(path: Path, *, device: torch.device | str = "cpu") -> VideoModel:
    net, meta = VideoAE.load(Path(path), map_location=device)
    if not isinstance(meta.get("source"), dict) or "size" not in meta:
        raise BadInputError(f"{path}: not a model written by 'kinema vsae fit' (no source description)")
    return VideoModel(net=net, meta=meta, path=Path(path))


def open_model_and_video(model: Path, source: Path, *, device: torch.device | str = "cpu", fps: Fraction | None = None) -> tuple[VideoModel, Footage]:
    """The model and the footage it was fit on, at the model's working size; a video that is
    not the one the model was fit on is refused before it is decoded."""
    vm = load_video_model(model, device=device)
    probe(Path(source), fps=fps)  # a missing or unreadable input fails here, with its own message
    fingerprint = source_fingerprint(source)
    vm.check(Path(source), fingerprint)
    return vm, read_footage(source, size=vm.size, fps=fps, fingerprint=fingerprint)


@torch.no_grad()
def encode_all(vm: VideoModel, footage: Footage, *, batch: int = 16) -> torch.Tensor:
    """Latent maps of every frame, ``(N, C, h', w')`` float32 on the CPU."""
    device = next(vm.net.parameters()).device
    codes = [vm.net.encode(footage.as_float(slice(i, i + batch)).to(device)).cpu() for i in range(0, len(footage.frames), batch)]
    return torch.cat(codes)
