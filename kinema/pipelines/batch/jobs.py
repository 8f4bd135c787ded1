"""What a batch does to each file: one small frozen, picklable dataclass per job kind.

A job is sent once to every worker (a local process or a Ray actor), which calls
:meth:`load` once — weights are read there, not per file — and then :meth:`run` for each
file it is given. ``run`` calls the same pipeline function the single-file command calls;
nothing in it knows how it is scheduled. It returns a :data:`Row` (a short summary for the
report) or, for a long video cut into parts, a :class:`Split`: units of work the runner
spreads over its workers, then a unit that joins their results.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from kinema.engines.base import Engine
from kinema.engines.classical import ClassicalConfig
from kinema.engines.gif2video import GifRestorer
from kinema.engines.learned import LearnedEngine
from kinema.engines.spec import AverageSpec, ClassicalSpec, EngineSpec
from kinema.io.output import OutputOptions
from kinema.pipelines.adapt import AdaptConfig, adapt_to_video
from kinema.pipelines.chunked import PART_SUFFIX, Chunk, join_chunks, part_options, plan_chunks, render_chunk
from kinema.pipelines.convert import ConvertConfig, convert
from kinema.pipelines.gif2video import Gif2VideoConfig, gif2video
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from kinema.pipelines.snapshot import EmbedConfig, embed, load_model, preview
from kinema.types import DeblurMode, KinemaError
from kinema.weights import snapshot_name

#: A file's entry in the report (JSON-serializable).
Row = dict[str, Any]
#: One unit of work, run on a worker as ``unit(loaded, device)``; picklable.
Unit = Callable[[Any, "torch.device | str"], "Row | Split"]

#: Files a batch takes as videos (by name: a batch walks folders holding other files too).
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".nut", ".mpg", ".mpeg", ".ts", ".mts", ".flv", ".wmv", ".3gp"})
GIF_SUFFIXES = frozenset({".gif"})


@dataclass(frozen=True)
class Split:
    """A file's work cut into ``parts`` (independent, any order) and a ``join`` run after
    all of them have succeeded."""

    parts: list[Unit]
    join: Unit


def chunk_folder(output: Path, plan: str) -> Path:
    """Where the parts of ``output`` wait to be joined: hidden, beside it, kept across a
    killed run so a rerun renders only the missing parts. ``plan`` names what the parts
    were made from (source, options, part size): parts of another plan are never reused."""
    return output.parent / f".{output.name}.kinema-chunks-{plan}"


def _plan_key(source: Path, *what) -> str:
    stat = source.stat() if source.is_file() else None
    text = repr((str(source), stat and (stat.st_size, stat.st_mtime_ns), *what))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class InterpolateJob:
    config: InterpolateConfig
    engine: EngineSpec
    suffix: str = ".mp4"
    #: Cut videos into parts of about this many source frames that run on different
    #: workers (a tail under half a part joins the part before it; None: never cut).
    chunk_frames: int | None = None
    inputs: frozenset[str] = VIDEO_SUFFIXES | GIF_SUFFIXES
    #: Folders of images are inputs too (image sequences).
    sequences: bool = True
    #: Test-time adaptation to each file (``--adapt N``; the learned engine only): every
    #: file gets a fresh copy of the loaded network, fitted to that file.
    adapt: AdaptConfig = field(default_factory=AdaptConfig)

    def __post_init__(self):
        if self.adapt.steps and self.chunk_frames:
            raise ValueError("--adapt fits the network to a whole video: it cannot be combined with --chunk-frames")

    def load(self, device: torch.device | str) -> Engine:
        engine = self.engine.build(device)
        if self.adapt.steps and not isinstance(engine, LearnedEngine):
            raise KinemaError("--adapt needs --engine learned")
        return engine

    def run(self, source: Path, output: Path, engine: Engine, device: torch.device | str) -> Row | Split:
        # The runner decided this output must be made: an old invalid one is replaced.
        config = dataclasses.replace(self.config, overwrite=True)
        # Deblurring carries a recurrent state through the whole video: it runs unsplit.
        if self.chunk_frames and config.deblur is DeblurMode.OFF:
            chunks = plan_chunks(source, config, frames=self.chunk_frames)
            if len(chunks) > 1:
                options = part_options(config, output)
                work = chunk_folder(output, _plan_key(source, self.config, self.engine, chunks, options))
                for stale in output.parent.glob(f".{output.name}.kinema-chunks-*"):
                    if stale != work:  # parts of an earlier plan: of no use now
                        shutil.rmtree(stale, ignore_errors=True)
                work.mkdir(exist_ok=True)
                parts = [work / f"part-{c.index:05d}{PART_SUFFIX}" for c in chunks]
                return Split(
                    parts=[partial(_render_part, self, source, c, p, options) for c, p in zip(chunks, parts)],
                    join=partial(_join_parts, self, source, parts, output),
                )
        if self.adapt.steps:
            engine = copy.deepcopy(engine)  # the next file starts from the loaded weights again
            adapt_to_video(engine, source, self.adapt, source_fps=config.source_fps)
        r = interpolate_video(source, output, config, engine=engine, device=device)
        return {"frames_in": r.frames_in, "frames_out": r.frames_out, "interpolated": r.interpolated, "cuts": r.cuts, "blended": r.blended, "audio": r.audio_copied}


def _render_part(job: InterpolateJob, source: Path, chunk: Chunk, part: Path, options: OutputOptions, engine: Engine, device) -> Row:
    if part.exists():  # rendered by an earlier, interrupted run (parts appear whole)
        return {"part": chunk.index, "reused": True}
    config = dataclasses.replace(job.config, overwrite=True)
    r = render_chunk(source, chunk, part, config, options=options, engine=engine, device=device)
    return {"part": chunk.index, "frames_out": r.frames_out}


def _join_parts(job: InterpolateJob, source: Path, parts: list[Path], output: Path, engine: Engine, device) -> Row:
    config = dataclasses.replace(job.config, overwrite=True)
    r = join_chunks(source, parts, output, config)
    shutil.rmtree(parts[0].parent, ignore_errors=True)
    return {"frames_out": r.frames, "parts": len(parts), "joined_by_copy": r.copied, "audio": r.audio_copied}


@dataclass(frozen=True)
class Gif2VideoJob:
    config: Gif2VideoConfig = field(default_factory=Gif2VideoConfig)
    #: The engine for in-between frames (used only when the job retimes).
    engine: EngineSpec = field(default_factory=lambda: ClassicalSpec(ClassicalConfig.fast()))
    #: Folder of GIF restoration weights (None: the shipped ones).
    models: Path | None = None
    suffix: str = ".mp4"
    inputs: frozenset[str] = GIF_SUFFIXES
    sequences: bool = False

    def load(self, device: torch.device | str) -> tuple[Engine, GifRestorer | None]:
        retiming = self.config.factor not in (None, 1) or self.config.fps is not None
        engine = (self.engine if retiming else AverageSpec()).build(device)
        restorer = GifRestorer.from_folder(self.models, device=device) if self.config.restore else None
        return engine, restorer

    def run(self, source: Path, output: Path, loaded: tuple[Engine, GifRestorer | None], device: torch.device | str) -> Row:
        engine, restorer = loaded
        config = dataclasses.replace(self.config, overwrite=True)
        r = gif2video(source, output, config, restorer=restorer, engine=engine, device=device)
        return {"frames_in": r.retimed.frames_in, "frames_out": r.retimed.frames_out, "colors": r.colors, "kind": None if r.plan is None else r.plan.kind.name.lower(), "model": r.level}


@dataclass(frozen=True)
class ConvertJob:
    config: ConvertConfig = field(default_factory=ConvertConfig)
    suffix: str = ".mp4"
    inputs: frozenset[str] = VIDEO_SUFFIXES | GIF_SUFFIXES
    sequences: bool = True

    def load(self, device: torch.device | str) -> None:
        return None

    def run(self, source: Path, output: Path, loaded: None, device: torch.device | str) -> Row:
        r = convert(source, output, dataclasses.replace(self.config, overwrite=True))
        return {"frames": r.frames, "audio": r.audio_copied}


def _robust(suffix: str, jpeg_robust: bool | None) -> bool:
    return suffix.lower() in (".jpg", ".jpeg") if jpeg_robust is None else jpeg_robust


@dataclass(frozen=True)
class SnapshotJob:
    """``count`` None: one snapshot of ``frames`` frames from ``config.start`` (``embed``);
    a number: a preview sheet of that many snapshots across the video (``preview``)."""

    config: EmbedConfig = field(default_factory=EmbedConfig)
    frames: int = 5
    count: int | None = None
    jpeg_robust: bool | None = None
    models: Path | None = None
    suffix: str = ".png"
    inputs: frozenset[str] = VIDEO_SUFFIXES | GIF_SUFFIXES
    sequences: bool = True

    def load(self, device: torch.device | str):
        name = snapshot_name(self.frames, jpeg_robust=_robust(self.suffix, self.jpeg_robust))
        net, digest = load_model(name, self.models, device=device)
        return name, net, digest

    def run(self, source: Path, output: Path, loaded, device: torch.device | str) -> Row:
        name, net, digest = loaded
        config = dataclasses.replace(self.config, overwrite=True)
        if self.count is None:
            r = embed(source, output, config, model=name, net=net, digest=digest, device=device)
        else:
            r = preview(source, output, config, count=self.count, model=name, net=net, digest=digest, device=device)
        return {"snapshots": r.info.count, "psnr_to_middle": [round(x, 2) for x in r.snapshot_psnr]}


Job = InterpolateJob | Gif2VideoJob | ConvertJob | SnapshotJob
