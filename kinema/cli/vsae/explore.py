"""``kinema vsae fit | map | summary | loop | retime``: fit a model, look at a video through it, make new videos from its latent space."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import (
    Audio,
    Codec,
    Crf,
    Device,
    Factor,
    MediaOutput,
    Overwrite,
    Quiet,
    SceneCuts,
    Slowmo,
    SourceFps,
    TargetFps,
    usage,
)
from kinema.cli.options import device as device_of
from kinema.types import CutMode
from kinema.cli.vsae.common import (
    MULTI_RES,
    LearnedPath,
    Model,
    Reproject,
    Source,
    app,
    at_least,
    inputs_then_output,
    output_options,
)
from kinema.io.video_out import VideoCodec


@contextmanager
def _fit_bar(quiet: bool):
    """A bar for the fit: share of the epochs/time budget done, and the training PSNR."""
    if quiet:
        yield None
        return
    columns = (
        TextColumn("fit"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%  step {task.fields[step]}  {task.fields[psnr]:.1f} dB"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=stderr)
    task = None

    def update(status) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("fit", total=1000, step=0, psnr=0.0)
        bar.update(task, completed=round(1000 * status.done), step=status.step, psnr=status.psnr)

    try:
        yield update
    finally:
        if task is not None:  # a bar never started would still print an empty line
            bar.stop()


@app.command("fit")
def fit_cmd(
    paths: Annotated[list[Path], typer.Argument(help="The input (video, GIF, or image-sequence folder) — or several, fit as one collection — then the model (.safetensors).", metavar="IN... MODEL")],
    minutes: Annotated[Optional[float], typer.Option(help="Time budget; the learning-rate schedule fits into it.")] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the video (the paper: 200); --minutes may stop it earlier.")] = 200,
    max_side: Annotated[int, typer.Option(help="Frames are scaled so the longer side is at most this.")] = 256,
    width: Annotated[int, typer.Option(help="Channels of the first encoder layer; the others scale with it (the latent has 24×).")] = 8,
    batch: Annotated[int, typer.Option(help="Frames per step (the paper: 6).")] = 12,
    lr: Annotated[float, typer.Option(help="Adam's learning rate before the decay (the paper: 2e-4).")] = 2e-3,
    seed: Annotated[int, typer.Option(help="Seed of the initialization and the frame order.")] = 0,
    multi_res: Annotated[bool, typer.Option("--multi-res", help="Train on inputs shrunk up to 32x (outputs at full size), so `vsae upscale` works in one pass.")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Ignore a saved state of an interrupted fit and start over.")] = False,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Fit an autoencoder to every frame of a video, or of several as one (resumes an interrupted fit)."""
    from kinema.models.video_ae import VideoAEConfig
    from kinema.pipelines.vsae import FitVideoConfig, fit_video
    from kinema.pipelines.vsae.fit import state_path
    from kinema.train.video_ae import FitConfig

    with usage():
        model = VideoAEConfig.scaled(width)
        config = FitVideoConfig(
            max_side=max_side,
            model=model,
            fit=FitConfig(epochs=epochs, minutes=minutes, batch=batch, lr=lr, seed=seed, multi_res=MULTI_RES if multi_res else 1),
            source_fps=source_fps,
            resume=not restart,
            overwrite=overwrite,
        )
    *sources, output = inputs_then_output(paths)
    if not restart and state_path(output).is_file():
        stderr.print(f"resuming the interrupted fit saved in {state_path(output)}", highlight=False)
    with _fit_bar(quiet) as progress:
        result = fit_video(sources if len(sources) > 1 else sources[0], output, config, device=device_of(device), progress=progress)
    r = result.report
    h, w = result.size
    stderr.print(
        f"wrote {result.output}: {result.frames} frames at {w}x{h}, {r.steps} steps ({r.epochs:.0f} epochs) in {r.seconds / 60:.1f} min, "
        f"reconstruction {r.psnr:.2f} dB (worst frame {min(r.frame_psnr):.2f} dB)",
        highlight=False,
    )


@app.command("map")
def map_cmd(
    model: Model,
    paths: Annotated[list[Path], typer.Argument(help="The video the model was fit on — or a collection's videos, in the order fit — then the map (.png).", metavar="IN... OUT.png")],
    clusters: Annotated[Optional[int], typer.Option(help="k-means on the latent codes; also writes OUTPUT-cluster-N.png contact sheets.")] = None,
    thumbnails: Annotated[int, typer.Option(help="Frames shown as thumbnails on the map.")] = 12,
    reproject: Reproject = 5,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
) -> None:
    """The 2-D PCA map of the frames' latent codes, with the time path and thumbnails (coloured by video for a collection)."""
    from kinema.pipelines.vsae import latent_map

    at_least(0, thumbnails=thumbnails, reproject=reproject)
    if clusters is not None:
        at_least(1, clusters=clusters)
    *sources, output = inputs_then_output(paths)
    result = latent_map(
        model, sources if len(sources) > 1 else sources[0], output, clusters=clusters, thumbnails=thumbnails, reproject=reproject, device=device_of(device), fps=source_fps, overwrite=overwrite
    )
    share = 100 * float(result.explained.sum())
    extra = f" and {len(result.sheets)} cluster sheets" if result.sheets else ""
    pure = f"; the clusters recover the {len(sources)} videos with purity {result.purity:.3f}" if result.purity is not None else ""
    stderr.print(f"wrote {result.output}{extra}: {len(result.coords)} frames, the two axes hold {share:.0f} % of the variance{pure}", highlight=False)


@app.command("path")
def path_cmd(
    model: Model,
    source: Source,
    output: Annotated[Path, typer.Argument(help="The learned path: a .safetensors file (for retime/loop --path).")],
    steps: Annotated[int, typer.Option(help="Training steps (each decodes a few paths of 5 points).")] = 400,
    energy: Annotated[float, typer.Option(help="Weight of the decoded path's energy (the minimizing-geodesic loss).")] = 0.01,
    speed: Annotated[float, typer.Option(help="Weight of the constant-speed loss.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the initialization and the samples.")] = 0,
    device: Device = "cpu",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Learn the latent path between the video's frames (an interpolation network) for retime and loop --path."""
    from kinema.pipelines.vsae.fit import fit_latent_path
    from kinema.train.latent_path import PathFitConfig

    with usage():
        config = PathFitConfig(steps=steps, energy=energy, speed=speed, seed=seed)
    with progress_bar("path", quiet=quiet, unit="steps") as bar:
        progress = None if bar is None else (lambda step, row: bar(step, steps))
        result = fit_latent_path(model, source, output, config, overwrite=overwrite, device=device_of(device), progress=progress)
    stderr.print(
        f"wrote {result.output}: frames between two others, at the midpoint, {result.learned_psnr:.2f} dB along the path "
        f"({result.line_psnr:.2f} dB along the straight line), in {result.seconds:.0f} s",
        highlight=False,
    )


@app.command("summary")
def summary_cmd(
    model: Model,
    source: Source,
    output: Annotated[Path, typer.Argument(help="The summaries: a .png file.")],
    segments: Annotated[int, typer.Option(help="Equal segments, one summary each.")] = 4,
    reproject: Reproject = 5,
    compare: Annotated[bool, typer.Option("--compare", help="Also show the per-pixel average and the average before reprojection.")] = False,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
) -> None:
    """One picture per segment: the decoded average of its latent codes."""
    from kinema.pipelines.vsae import summary

    at_least(1, segments=segments)
    at_least(0, reproject=reproject)
    result = summary(model, source, output, segments=segments, reproject=reproject, compare=compare, device=device_of(device), fps=source_fps, overwrite=overwrite)
    stderr.print(f"wrote {result.output}: {len(result.segments)} summaries", highlight=False)


@app.command("loop")
def loop_cmd(
    model: Model,
    source: Source,
    output: MediaOutput,
    seconds: Annotated[float, typer.Option(help="Length of the output.")] = 10.0,
    min_gap: Annotated[int, typer.Option(help="A jump goes back at least this many frames.")] = 10,
    jumps: Annotated[int, typer.Option(help="Loop points kept (the most similar frame pairs).")] = 6,
    transition: Annotated[int, typer.Option(help="Frames decoded from interpolated latents across each jump.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the random walk.")] = 0,
    reproject: Reproject = 5,
    path: LearnedPath = None,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """An endless video texture: playback that jumps between frames with similar latent codes."""
    from kinema.pipelines.vsae import LoopConfig, video_loop

    with usage():
        config = LoopConfig(seconds=seconds, min_gap=min_gap, jumps=jumps, transition=transition, reproject=reproject, seed=seed, output=output_options(codec, crf), overwrite=overwrite)
        config.output.validate()
    with progress_bar("loop", quiet=quiet) as progress:
        result = video_loop(model, source, output, config, device=device_of(device), fps=source_fps, path=path, progress=progress)
    taken = sum(1 for a, b in zip(result.shots, result.shots[1:]) if b.is_frame and b.a != a.a + 1 and b.a != a.a)
    stderr.print(f"wrote {result.output}: {len(result.shots)} frames at {float(result.fps):.3f} fps, {taken} jumps among {len(result.jumps)} loop points", highlight=False)


@app.command("retime")
def retime_cmd(
    model: Model,
    source: Source,
    output: MediaOutput,
    factor: Factor = None,
    fps: TargetFps = None,
    slowmo: Slowmo = None,
    reproject: Annotated[int, typer.Option(help="Extra passes through the autoencoder per in-between (the paper: 5; off by default: it lowered the benchmark's scores).")] = 0,
    geodesic: Annotated[int, typer.Option(help="Steps bending each pair's latent path into a shortest path on the video's manifold (0: straight line).")] = 0,
    path: LearnedPath = None,
    scene_cuts: SceneCuts = CutMode.QUICK,
    audio: Audio = True,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Temporal super-resolution by latent interpolation (at the size the model was fit at)."""
    from kinema.pipelines.interpolate import InterpolateConfig
    from kinema.pipelines.vsae import retime

    with usage():
        config = InterpolateConfig(
            factor=factor,
            fps=fps,
            slowmo=slowmo,
            output=output_options(codec, crf),
            source_fps=source_fps,
            audio=audio,
            scene_cuts=scene_cuts,
            overwrite=overwrite,
        )
    at_least(0, reproject=reproject, geodesic=geodesic)
    if path is not None and geodesic:
        raise typer.BadParameter("--path and --geodesic are two ways to bend the path between frames: choose one")
    with progress_bar("retime", quiet=quiet) as progress:
        result = retime(model, source, output, config, reproject=reproject, geodesic=geodesic, path=path, device=device_of(device), progress=progress)
    stderr.print(
        f"wrote {result.output}: {result.frames_in} → {result.frames_out} frames ({result.interpolated} from latent interpolation) in {result.seconds:.1f} s",
        highlight=False,
    )
