"""A video and the autoencoder fit to it: reading the footage, fitting, the model file.

The whole video is held in memory, as uint8 at the working size (long side 256 by
default: 100 frames of 256×144 are 11 MB), because fitting visits every frame many
times. A model file records what it was fit on — the source's sha256, frame count, rate
and the working size — and every command that takes a model and a video refuses a video
that is not that one (:class:`ModelMismatchError`), before decoding it.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from kinema import __version__
from kinema.io.atomic import check_output
from kinema.io.probe import open_reader, probe
from kinema.models.checkpoint import tensor_digest
from kinema.models.video_ae import VideoAE, VideoAEConfig
from kinema.ops.resize import fit_size, resize
from kinema.train.latent_path import PathFitConfig, fit_path
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
    #: A collection (several videos fit as one): each video's name, and the video every
    #: frame came from. Empty for one video.
    videos: tuple[str, ...] = ()
    video_of: tuple[int, ...] = ()

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


def collection_fingerprint(fingerprints: list[str]) -> str:
    """The digest of several videos taken in this order (a model fit on them checks it)."""
    return hashlib.sha256("\n".join(fingerprints).encode()).hexdigest()


def read_collection(sources: list[Path], *, size: tuple[int, int] | None = None, max_side: int = 256, fps: Fraction | None = None, fingerprints: list[str] | None = None) -> Footage:
    """Several videos as one footage (appendix A of the paper: one autoencoder for a
    collection), all at one size: ``size``, or the first video's working size. A video of
    another shape is scaled to it (stretched: the autoencoder draws one frame size).
    ``info`` and ``times`` are the first video's and each video's own."""
    sources = [Path(s) for s in sources]
    if len(set(map(str, sources))) != len(sources):
        raise BadInputError("a video is given twice in the collection")
    fingerprints = fingerprints or [source_fingerprint(s) for s in sources]
    first = read_footage(sources[0], size=size, max_side=max_side, fps=fps, fingerprint=fingerprints[0])
    parts = [first] + [read_footage(s, size=first.size, fps=fps, fingerprint=f) for s, f in zip(sources[1:], fingerprints[1:])]
    return Footage(
        frames=torch.cat([p.frames for p in parts]),
        times=tuple(t for p in parts for t in p.times),
        info=first.info,
        fingerprint=collection_fingerprint(fingerprints),
        videos=tuple(s.name for s in sources),
        video_of=tuple(k for k, p in enumerate(parts) for _ in range(len(p.frames))),
    )


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
    source: Path | list[Path],
    output: Path,
    config: FitVideoConfig = FitVideoConfig(),
    *,
    device: torch.device | str = "cpu",
    progress: Callable[[FitStatus], None] | None = None,
) -> FitVideoResult:
    """Fit an autoencoder to every frame of ``source`` — one video, or a list of videos
    fit as one collection — and write it to ``output`` (safetensors, with the source's
    description and the reconstruction PSNR)."""
    started = time.perf_counter()
    sources = [Path(s) for s in source] if isinstance(source, (list, tuple)) else [Path(source)]
    output = Path(output)
    if output.suffix != ".safetensors":
        raise BadInputError(f"{output}: a model is written as .safetensors")
    check_output(output, overwrite=config.overwrite, inputs=tuple(sources))
    if not output.parent.is_dir():  # found now, not when the first state is saved
        raise BadInputError(f"output folder {output.parent} does not exist")
    if len(sources) == 1:
        footage = read_footage(sources[0], max_side=config.max_side, fps=config.source_fps)
    else:
        footage = read_collection(sources, max_side=config.max_side, fps=config.source_fps)
    h, w = footage.size
    tag = {"source": footage.fingerprint, "size": [h, w], "frames": len(footage.frames)}
    state = state_path(output)
    if not config.resume:
        state.unlink(missing_ok=True)
    net, report = fit(footage.frames, config.model, config.fit, device=device, state=state, tag=tag, progress=progress)
    info = footage.info
    meta = {
        "source": {
            "name": sources[0].name if len(sources) == 1 else f"{len(sources)} videos ({', '.join(footage.videos)})",
            "sha256": footage.fingerprint,
            "frames": len(footage.frames),
            "fps": str(info.fps or info.average_fps),
            "width": info.width,
            "height": info.height,
        },
        **({"videos": [{"name": name, "frames": footage.video_of.count(k)} for k, name in enumerate(footage.videos)]} if footage.videos else {}),
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
    check_output(output, overwrite=config.overwrite, inputs=tuple(sources))  # it may have appeared meanwhile
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

    def check(self, source: Path | str, fingerprint: str) -> None:
        fit_on = self.meta["source"]
        if fingerprint != fit_on["sha256"]:
            order = " (the same videos, in the same order)" if "videos" in self.meta else ""
            raise ModelMismatchError(
                f"{self.path} was fit on {fit_on['name']}{order} ({fit_on['frames']} frames, sha256 {fit_on['sha256'][:12]}…), "
                f"not on {source} (sha256 {fingerprint[:12]}…); fit a model to it with 'kinema vsae fit'"
            )


def load_video_model(path: Path, *, device: torch.device | str = "cpu") -> VideoModel:
    net, meta = VideoAE.load(Path(path), map_location=device)
    if not isinstance(meta.get("source"), dict) or "size" not in meta:
        raise BadInputError(f"{path}: not a model written by 'kinema vsae fit' (no source description)")
    return VideoModel(net=net, meta=meta, path=Path(path))


def open_model_and_video(model: Path, source: Path | list[Path], *, device: torch.device | str = "cpu", fps: Fraction | None = None) -> tuple[VideoModel, Footage]:
    """The model and the footage it was fit on (one video, or the list of videos of a
    collection), at the model's working size; a video that is not the one the model was
    fit on is refused before it is decoded."""
    vm = load_video_model(model, device=device)
    sources = [Path(s) for s in source] if isinstance(source, (list, tuple)) else [Path(source)]
    for s in sources:
        probe(s, fps=fps)  # a missing or unreadable input fails here, with its own message
    fingerprints = [source_fingerprint(s) for s in sources]
    if len(sources) == 1:
        vm.check(sources[0], fingerprints[0])
        return vm, read_footage(sources[0], size=vm.size, fps=fps, fingerprint=fingerprints[0])
    vm.check(f"{len(sources)} videos ({', '.join(s.name for s in sources)})", collection_fingerprint(fingerprints))
    return vm, read_collection(sources, size=vm.size, fps=fps, fingerprints=fingerprints)


@torch.no_grad()
def encode_all(vm: VideoModel, footage: Footage, *, batch: int = 16) -> torch.Tensor:
    """Latent maps of every frame, ``(N, C, h', w')`` float32 on the CPU."""
    device = next(vm.net.parameters()).device
    codes = [vm.net.encode(footage.as_float(slice(i, i + batch)).to(device)).cpu() for i in range(0, len(footage.frames), batch)]
    return torch.cat(codes)


@dataclass(frozen=True)
class PathResult:
    output: Path
    #: Midpoint PSNR (dB) of the frames between two others, along the learned path and
    #: along the straight line (on the frames it was fit on).
    learned_psnr: float
    line_psnr: float
    seconds: float


def fit_latent_path(
    model: Path,
    source: Path,
    output: Path,
    config: PathFitConfig = PathFitConfig(),
    *,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: Callable[[int, dict], None] | None = None,
) -> PathResult:
    """Learn the latent path of ``model``'s video (:mod:`kinema.train.latent_path`) and
    write it to ``output`` (safetensors, with the model's tensor digest: it is used only
    with that model). An interrupted fit resumes from ``OUTPUT.fit-state/``."""
    started = time.perf_counter()
    output = Path(output)
    if output.suffix != ".safetensors":
        raise BadInputError(f"{output}: a latent path is written as .safetensors")
    check_output(output, overwrite=overwrite, inputs=(Path(source), Path(model)))
    vm, footage = open_model_and_video(model, source, device=device)
    digest = tensor_digest(vm.net.state_dict())
    work = output.with_name(output.stem + ".fit-state")
    try:
        path, scores = fit_path(vm.net, footage.frames, config, work=work, identity={"model": digest}, device=device, progress=progress)
    except ValueError as exc:  # a state left by a fit for another model or network size
        if not (work / "state.safetensors").is_file():
            raise
        raise BadInputError(f"{exc}; delete {work} to start over") from None
    meta = {"model": digest, "source": vm.meta["source"], "fit": asdict(config), **scores, "seconds": round(time.perf_counter() - started, 1), "kinema": __version__}
    check_output(output, overwrite=overwrite, inputs=(Path(source), Path(model)))
    path.to("cpu").save(output, **meta)
    shutil.rmtree(work, ignore_errors=True)
    return PathResult(output=output, learned_psnr=scores["learned_psnr"], line_psnr=scores["line_psnr"], seconds=time.perf_counter() - started)
