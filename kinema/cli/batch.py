"""``kinema batch JOB INPUT OUTPUT_DIR``: one job over a folder tree or a manifest.

Every job kind has the options of its single-file command that make sense for a whole
folder, plus the batch's own (workers, Ray, report, output format).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kinema.cli.common import engine_spec, progress_bar, stderr
from kinema.cli.options import (
    DEFAULT_ENGINE,
    Adapt,
    Audio,
    BlendDissolves,
    Codec,
    Crf,
    DeblurOption,
    DeblurWeights,
    Device,
    EngineName,
    EngineOption,
    Factor,
    Overwrite,
    Quality,
    QualityOption,
    Quiet,
    SceneCuts,
    Threads,
    Slowmo,
    SourceFps,
    TargetFps,
    WeightsOption,
    usage,
)
from kinema.cli.options import device as device_of
from kinema.io.output import output_kind
from kinema.io.video_out import VideoCodec
from kinema.types import CutMode, DeblurMode, KinemaError

if TYPE_CHECKING:
    from kinema.pipelines.batch import Job

app = typer.Typer(
    help="Run a job over every video in a folder tree (or a CSV/JSONL manifest), resumably, on local processes or Ray.",
    no_args_is_help=True,
)

InputArg = Annotated[Path, typer.Argument(help="A folder (walked recursively) or a manifest: .csv / .jsonl with 'input' and optional 'output'.")]
OutputArg = Annotated[Path, typer.Argument(help="Output folder; outputs mirror the inputs' folders.")]
Workers = Annotated[Optional[int], typer.Option(help="Worker processes (default: one per CPU core).")]
Ray = Annotated[bool, typer.Option("--ray", help="Run on Ray (pip install 'kinema[ray]'): a new local Ray, or --address.")]
Address = Annotated[Optional[str], typer.Option(help="With --ray: 'auto' (the cluster this machine is in) or ray://HEAD:10001.")]
Report = Annotated[Optional[Path], typer.Option(help="JSON-lines report, one line per file (default: OUTPUT_DIR/kinema-batch.jsonl).")]
Include = Annotated[Optional[str], typer.Option(help="Glob on paths relative to the input folder, e.g. '**/*.mov' (default: every video).")]


#: Failures listed after the summary line (all of them are in the report).
SHOWN_FAILURES = 5


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _suffix(to: str) -> str:
    suffix = to if to.startswith(".") or to == "" else f".{to}"
    if suffix == ".":
        raise typer.BadParameter("--to needs a format, e.g. mp4, mkv, gif, png")
    if suffix not in (".png", ".jpg", ".jpeg"):
        try:
            output_kind(Path("output" + suffix))
        except KinemaError as exc:
            raise typer.BadParameter(f"--to {to!r}: {str(exc).split(': ', 1)[-1]}") from None
    return suffix.lower()


def _run(job: Job, source: Path, output_dir: Path, *, workers, threads, ray, address, report, include, overwrite, device, quiet) -> None:
    from kinema.pipelines.batch import LocalPool, read_manifest, run_batch, walk

    if device != "cpu" and not (ray and address):  # a cluster's GPUs are not this machine's
        device_of(device)
    cores = _cores()
    for name, value in (("--workers", workers), ("--threads", threads)):
        if value is not None and value < 1:
            raise typer.BadParameter(f"{name} must be ≥ 1, got {value}")
    workers = cores if workers is None else workers
    threads = max(1, cores // workers) if threads is None else threads
    if address is not None and not ray:
        raise typer.BadParameter("--address needs --ray")
    if source.is_dir():
        tasks = walk(source, output_dir, suffixes=job.inputs, suffix=job.suffix, include=include, sequences=job.sequences)
    elif source.suffix.lower() in (".csv", ".jsonl"):
        if include:
            raise typer.BadParameter("--include applies to an input folder, not a manifest")
        tasks = read_manifest(source, output_dir, suffix=job.suffix)
    else:
        raise KinemaError(f"{source}: not a folder or a .csv/.jsonl manifest")
    if not tasks:
        raise KinemaError(f"{source}: no input files found" + (f" matching {include!r}" if include else ""))
    output_dir.mkdir(parents=True, exist_ok=True)
    report = report or output_dir / "kinema-batch.jsonl"
    if ray:
        from kinema.pipelines.batch.ray_pool import RayPool

        pool = RayPool(job, workers=workers, threads=threads, device=device, address=address)
    else:
        pool = LocalPool(job, workers=workers, threads=threads, device=device)
    with progress_bar("batch", quiet=quiet, unit="files") as progress:
        summary = run_batch(tasks, job, pool, report=report, output_dir=output_dir, overwrite=overwrite, progress=progress)
    stderr.print(
        f"batch: {summary.done} done, {summary.skipped} already complete, {summary.failed} failed "
        f"in {summary.seconds:.1f} s on {workers} {'Ray ' if ray else ''}worker{'s' * (workers > 1)} (report: {report})",
        highlight=False,
    )
    for source, reason in summary.failures[:SHOWN_FAILURES]:
        # kinema's own errors already start with the file's name.
        stderr.print(f"  failed: {reason if reason.startswith(str(source)) else f'{source}: {reason}'}", highlight=False)
    if len(summary.failures) > SHOWN_FAILURES:
        stderr.print(f"  … and {len(summary.failures) - SHOWN_FAILURES} more in the report", highlight=False)
    if summary.failed:
        raise typer.Exit(1)


def _config(make: Callable, **kwargs):
    with usage():  # a bad combination of options
        return make(**kwargs)


def _output(**video):
    from kinema.io import OutputOptions, VideoOptions

    return OutputOptions(video=VideoOptions(**video))


@app.command("interpolate")
def interpolate_cmd(
    source: InputArg,
    output_dir: OutputArg,
    factor: Factor = None,
    fps: TargetFps = None,
    slowmo: Slowmo = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    chunk_frames: Annotated[Optional[int], typer.Option(help="Cut videos into parts of about N frames that run on different workers (long videos; with --scene-cuts auto, parts end at cuts).")] = None,
    scene_cuts: SceneCuts = CutMode.QUICK,
    blend_dissolves: BlendDissolves = False,
    deblur: DeblurOption = DeblurMode.OFF,
    deblur_weights: DeblurWeights = None,
    adapt: Adapt = 0,
    source_fps: SourceFps = None,
    to: Annotated[str, typer.Option(help="Output format: mp4, mov, mkv, gif, … ('' for PNG folders).")] = "mp4",
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    workers: Workers = None, threads: Threads = None, ray: Ray = False, address: Address = None, report: Report = None,
    include: Include = None, overwrite: Overwrite = False, device: Device = "cpu", quiet: Quiet = False,
) -> None:  # fmt: skip
    """Retime every video: --factor N, --fps F or --slowmo N."""
    from kinema.pipelines.adapt import AdaptConfig
    from kinema.pipelines.batch import InterpolateJob
    from kinema.pipelines.interpolate import InterpolateConfig

    config = _config(InterpolateConfig, factor=factor, fps=fps, slowmo=slowmo, output=_output(codec=codec, crf=crf), source_fps=source_fps, scene_cuts=scene_cuts, blend_gradual=blend_dissolves, deblur=deblur, deblur_weights=deblur_weights)
    if adapt and engine is not EngineName.learned:
        raise typer.BadParameter("--adapt needs --engine learned")
    if chunk_frames is not None and chunk_frames < 2:
        raise typer.BadParameter(f"--chunk-frames must be ≥ 2, got {chunk_frames}")
    job = _config(InterpolateJob, config=config, engine=engine_spec(engine, quality, weights), suffix=_suffix(to), chunk_frames=chunk_frames, adapt=_config(AdaptConfig, steps=adapt))
    _run(job, source, output_dir, workers=workers, threads=threads, ray=ray, address=address, report=report, include=include, overwrite=overwrite, device=device, quiet=quiet)


@app.command("gif2video")
def gif2video_cmd(
    source: InputArg,
    output_dir: OutputArg,
    factor: Factor = None,
    fps: TargetFps = None,
    restore: Annotated[bool, typer.Option("--restore/--no-restore", help="Undo the colour quantization.")] = True,
    models: Annotated[Optional[Path], typer.Option(help="Folder of GIF restoration weights.")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    to: Annotated[str, typer.Option(help="Output format: mp4, mov, mkv, gif, …")] = "mp4",
    codec: Codec = VideoCodec.H264,
    workers: Workers = None, threads: Threads = None, ray: Ray = False, address: Address = None, report: Report = None,
    include: Include = None, overwrite: Overwrite = False, device: Device = "cpu", quiet: Quiet = False,
) -> None:  # fmt: skip
    """Restore every GIF to full-colour video (optionally at a higher frame rate)."""
    from kinema.pipelines.batch import Gif2VideoJob
    from kinema.pipelines.gif2video import Gif2VideoConfig

    config = _config(Gif2VideoConfig, factor=factor, fps=fps, restore=restore, output=_output(codec=codec))
    job = Gif2VideoJob(config, engine_spec(engine, quality, weights), models=models, suffix=_suffix(to))
    _run(job, source, output_dir, workers=workers, threads=threads, ray=ray, address=address, report=report, include=include, overwrite=overwrite, device=device, quiet=quiet)


@app.command("convert")
def convert_cmd(
    source: InputArg,
    output_dir: OutputArg,
    to: Annotated[str, typer.Option(help="Output format: mp4, mov, mkv, gif, … ('' for PNG folders).")] = "mp4",
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    audio: Audio = True,
    source_fps: SourceFps = None,
    workers: Workers = None, threads: Threads = None, ray: Ray = False, address: Address = None, report: Report = None,
    include: Include = None, overwrite: Overwrite = False, quiet: Quiet = False,
) -> None:  # fmt: skip
    """Convert every file to another format, keeping timing and audio."""
    from kinema.pipelines.batch import ConvertJob
    from kinema.pipelines.convert import ConvertConfig

    config = _config(ConvertConfig, output=_output(codec=codec, crf=crf), audio=audio, fps=source_fps)
    job = ConvertJob(config, suffix=_suffix(to))
    _run(job, source, output_dir, workers=workers, threads=threads, ray=ray, address=address, report=report, include=include, overwrite=overwrite, device="cpu", quiet=quiet)


SnapFrames = Annotated[int, typer.Option(help="Frames per snapshot: 5 or 9.")]
Stride = Annotated[int, typer.Option(help="Take every S-th frame.")]
MaxSide = Annotated[Optional[int], typer.Option(help="Longer side of each snapshot.")]
SnapTo = Annotated[str, typer.Option(help="png (lossless) or jpg.")]
Refine = Annotated[int, typer.Option(help="Per-clip optimization steps.")]
SnapModels = Annotated[Optional[Path], typer.Option(help="Folder of snapshot weights.")]


def _snapshot(source, output_dir, *, count, frames, start, stride, max_side, to, refine, models, **batch) -> None:
    suffix = _suffix(to)
    if suffix not in (".png", ".jpg", ".jpeg"):
        raise typer.BadParameter(f"--to must be png or jpg for snapshots, got {to!r}")
    from kinema.pipelines.batch import SnapshotJob
    from kinema.pipelines.snapshot import EmbedConfig

    config = _config(EmbedConfig, start=start, stride=stride, max_side=max_side, refine=refine)
    _run(SnapshotJob(config, frames=frames, count=count, models=models, suffix=suffix), source, output_dir, **batch)


@app.command("snapshot-embed")
def snapshot_embed_cmd(
    source: InputArg,
    output_dir: OutputArg,
    frames: SnapFrames = 5,
    start: Annotated[int, typer.Option(help="Index of the first frame.")] = 0,
    stride: Stride = 1,
    max_side: MaxSide = None,
    to: SnapTo = "png",
    refine: Refine = 20,
    models: SnapModels = None,
    workers: Workers = None, threads: Threads = None, ray: Ray = False, address: Address = None, report: Report = None,
    include: Include = None, overwrite: Overwrite = False, device: Device = "cpu", quiet: Quiet = False,
) -> None:  # fmt: skip
    """One snapshot picture per video."""
    _snapshot(source, output_dir, count=None, frames=frames, start=start, stride=stride, max_side=max_side, to=to, refine=refine, models=models,
              workers=workers, threads=threads, ray=ray, address=address, report=report, include=include, overwrite=overwrite, device=device, quiet=quiet)  # fmt: skip


@app.command("snapshot-preview")
def snapshot_preview_cmd(
    source: InputArg,
    output_dir: OutputArg,
    count: Annotated[int, typer.Option(help="Snapshots across each video.")] = 9,
    frames: SnapFrames = 5,
    stride: Stride = 2,
    max_side: MaxSide = 320,
    to: SnapTo = "png",
    refine: Refine = 20,
    models: SnapModels = None,
    workers: Workers = None, threads: Threads = None, ray: Ray = False, address: Address = None, report: Report = None,
    include: Include = None, overwrite: Overwrite = False, device: Device = "cpu", quiet: Quiet = False,
) -> None:  # fmt: skip
    """A preview sheet of snapshots per video."""
    if count < 1:
        raise typer.BadParameter(f"--count must be ≥ 1, got {count}")
    _snapshot(source, output_dir, count=count, frames=frames, start=0, stride=stride, max_side=max_side, to=to, refine=refine, models=models,
              workers=workers, threads=threads, ray=ray, address=address, report=report, include=include, overwrite=overwrite, device=device, quiet=quiet)  # fmt: skip

