"""``kinema vsae fit | map | summary | loop | retime | upscale | propagate | edit | stitch | pack | unpack``: an autoencoder fit to one video."""

from __future__ import annotations

import enum
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
from kinema.io.video_out import VideoCodec



class BetweenName(str, enum.Enum):
    """``vsae unpack --between``: :class:`kinema.pipelines.vsae.transmit.Between` by name,
    declared here so the CLI starts without importing torch (a test checks they agree)."""

    motion = "motion"
    latent = "latent"

app = typer.Typer(help="Fit an autoencoder to one video, then map, summarize, loop, retime, upscale and edit it, carry masks through it, and pack it for sending.", no_args_is_help=True)

Model = Annotated[Path, typer.Argument(help="A model written by `kinema vsae fit`.")]
Source = Annotated[Path, typer.Argument(help="The video the model was fit on (video, GIF, or image-sequence folder).")]
#: The largest shrink ``vsae fit --multi-res`` trains for (the paper's 32x example).
MULTI_RES = 32

Reproject = Annotated[int, typer.Option(help="Extra passes through the autoencoder that pull a synthesized frame onto the video (the paper's n = 5).")]


def _at_least(low: int, **options: int) -> None:
    for name, value in options.items():
        if value < low:
            raise typer.BadParameter(f"--{name} must be ≥ {low}, got {value}")


@contextmanager
def _fit_bar(quiet: bool):
    """A bar for the fit: share of the epochs/time budget done, and the training PSNR."""
    if quiet:
        yield None
        return
    columns = (TextColumn("fit"), BarColumn(), TextColumn("{task.percentage:>3.0f}%  step {task.fields[step]}  {task.fields[psnr]:.1f} dB"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
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
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder.")],
    output: Annotated[Path, typer.Argument(help="The model: a .safetensors file.")],
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
    """Fit an autoencoder to every frame of a video (resumes an interrupted fit)."""
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
    if not restart and state_path(output).is_file():
        stderr.print(f"resuming the interrupted fit saved in {state_path(output)}", highlight=False)
    with _fit_bar(quiet) as progress:
        result = fit_video(source, output, config, device=device_of(device), progress=progress)
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
    source: Source,
    output: Annotated[Path, typer.Argument(help="The map: a .png file.")],
    clusters: Annotated[Optional[int], typer.Option(help="k-means on the latent codes; also writes OUTPUT-cluster-N.png contact sheets.")] = None,
    thumbnails: Annotated[int, typer.Option(help="Frames shown as thumbnails on the map.")] = 12,
    reproject: Reproject = 5,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
) -> None:
    """The 2-D PCA map of the frames' latent codes, with the time path and thumbnails."""
    from kinema.pipelines.vsae import latent_map

    _at_least(0, thumbnails=thumbnails, reproject=reproject)
    if clusters is not None:
        _at_least(1, clusters=clusters)
    result = latent_map(model, source, output, clusters=clusters, thumbnails=thumbnails, reproject=reproject, device=device_of(device), fps=source_fps, overwrite=overwrite)
    share = 100 * float(result.explained.sum())
    extra = f" and {len(result.sheets)} cluster sheets" if result.sheets else ""
    stderr.print(f"wrote {result.output}{extra}: {len(result.coords)} frames, the two axes hold {share:.0f} % of the variance", highlight=False)


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

    _at_least(1, segments=segments)
    _at_least(0, reproject=reproject)
    result = summary(model, source, output, segments=segments, reproject=reproject, compare=compare, device=device_of(device), fps=source_fps, overwrite=overwrite)
    stderr.print(f"wrote {result.output}: {len(result.segments)} summaries", highlight=False)


def _output_options(codec: VideoCodec, crf: int):
    from kinema.io import OutputOptions, VideoOptions

    return OutputOptions(video=VideoOptions(codec=codec, crf=crf))


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
        config = LoopConfig(seconds=seconds, min_gap=min_gap, jumps=jumps, transition=transition, reproject=reproject, seed=seed, output=_output_options(codec, crf), overwrite=overwrite)
        config.output.validate()
    with progress_bar("loop", quiet=quiet) as progress:
        result = video_loop(model, source, output, config, device=device_of(device), fps=source_fps, progress=progress)
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
    scene_cuts: SceneCuts = True,
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
            output=_output_options(codec, crf),
            source_fps=source_fps,
            audio=audio,
            scene_cuts=scene_cuts,
            overwrite=overwrite,
        )
    _at_least(0, reproject=reproject, geodesic=geodesic)
    with progress_bar("retime", quiet=quiet) as progress:
        result = retime(model, source, output, config, reproject=reproject, geodesic=geodesic, device=device_of(device), progress=progress)
    stderr.print(
        f"wrote {result.output}: {result.frames_in} → {result.frames_out} frames ({result.interpolated} from latent interpolation) in {result.seconds:.1f} s",
        highlight=False,
    )


@app.command("upscale")
def upscale_cmd(
    model: Model,
    source: Annotated[Path, typer.Argument(help="Small frames of the video the model was fit on (video, GIF, or image-sequence folder).")],
    output: MediaOutput,
    scale: Annotated[int, typer.Option(help="How many times smaller SOURCE is than the model's frames; OUTPUT is SOURCE's size × this.")] = 4,
    reproject: Annotated[int, typer.Option(help="Passes through the autoencoder after the first (iterative reprojection).")] = 5,
    consistent: Annotated[bool, typer.Option(help="Tie every pass back to SOURCE (back-projection), so the output shrinks back to it.")] = True,
    audio: Audio = True,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Super-resolution by reprojection: small frames of the model's video drawn at its size."""
    from kinema.pipelines.vsae.upscale import UpscaleConfig, upscale

    with usage():
        config = UpscaleConfig(scale=scale, reproject=reproject, consistent=consistent, output=_output_options(codec, crf), source_fps=source_fps, audio=audio, overwrite=overwrite)
    with progress_bar("upscale", quiet=quiet) as progress:
        result = upscale(model, source, output, config, device=device_of(device), progress=progress)
    h, w = result.size
    stderr.print(f"wrote {result.output}: {result.frames} frames at {w}x{h} ({scale}x) in {result.seconds:.1f} s", highlight=False)


@app.command("propagate")
def propagate_cmd(
    model: Model,
    source: Source,
    output: Annotated[Path, typer.Argument(help="The masks of every frame: a folder (PNG frames) or a lossless video (.mkv with --codec ffv1).")],
    mask: Annotated[Path, typer.Option(help="Labels drawn on the first frame: a PNG at the video's size; each colour or gray value is a label, black the background.")],
    codes_weight: Annotated[float, typer.Option(help="Share of the autoencoder's pixel codes in the labels, beside motion: 0 follows motion alone (the default), 1 is the paper's codes alone.")] = 0.0,
    codec: Codec = VideoCodec.FFV1,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Carry the labels of the first frame's mask to every frame of the video."""
    from kinema.pipelines.vsae.propagate import PropagateConfig, propagate

    with usage():
        config = PropagateConfig(codes_weight=codes_weight, output=_output_options(codec, 0), overwrite=overwrite)
    with progress_bar("propagate", quiet=quiet) as progress:
        result = propagate(model, source, mask, output, config, device=device_of(device), fps=source_fps, progress=progress)
    stderr.print(f"wrote {result.output}: {result.labels - 1} labels over {result.frames} frames in {result.seconds:.1f} s", highlight=False)


@app.command("edit")
def edit_cmd(
    model: Model,
    source: Source,
    output: Annotated[Path, typer.Argument(help="With --frame: an image (.png). Otherwise every frame: a video or a folder (PNG frames).")],
    remove: Annotated[Optional[str], typer.Option(help="What to remove: a box x,y,w,h or a mask PNG (non-black = remove), in the video's pixels, on the first frame (or on --frame).")] = None,
    insert: Annotated[Optional[str], typer.Option(help="Content to paste instead: FRAME:x,y,w,h (a box of that frame), with --at; writes one image.")] = None,
    at: Annotated[Optional[str], typer.Option(help="Where --insert goes: FRAME:X,Y (its top-left corner).")] = None,
    frame: Annotated[Optional[int], typer.Option(help="Edit this frame only (0-based) and write it as an image.")] = None,
    passes: Annotated[int, typer.Option(help="Passes through the autoencoder after filling (the paper's removal; 0: none, the default: they drew the object back). With --insert, 0 means 6.")] = 0,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Remove an object (the region follows it through the video and is filled with what the other frames show there), or insert content from another frame."""
    from kinema.pipelines.vsae.edit import edit_video, insert_frame

    _at_least(0, passes=passes)
    if (remove is None) == (insert is None):
        raise typer.BadParameter("give --remove, or --insert with --at")
    if (insert is None) != (at is None):
        raise typer.BadParameter("--insert and --at go together")
    if insert is not None:
        result = insert_frame(model, source, output, insert, at, passes=passes or 6, overwrite=overwrite, device=device_of(device), fps=source_fps)
        stderr.print(f"wrote {result.output} in {result.seconds:.1f} s", highlight=False)
        return
    with usage():
        options = _output_options(codec, crf)
        options.validate()
    with progress_bar("edit", quiet=quiet) as progress:
        result = edit_video(model, source, output, remove, frame=frame, passes=passes, options=options, overwrite=overwrite, device=device_of(device), fps=source_fps, progress=progress)
    stderr.print(f"wrote {result.output}: {result.frames} frames, {100 * result.removed:.1f} % of each removed, in {result.seconds:.1f} s", highlight=False)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a size: write it W,H") from None
    return w, h


@app.command("stitch")
def stitch_cmd(
    model: Model,
    frames: Annotated[list[Path], typer.Argument(help="Frames of the model's video (images), then the output image (.png).")],
    stretch: Annotated[Optional[int], typer.Option(help="Stretch one frame to this width instead.")] = None,
    extend: Annotated[Optional[str], typer.Option(help="Extend one frame to W,H (mirror-padded, then drawn by the autoencoder) instead.")] = None,
    passes: Annotated[int, typer.Option(help="Passes through the autoencoder.")] = 6,
    device: Device = "cpu",
    overwrite: Overwrite = False,
) -> None:
    """Frames set side by side and made seamless; or one frame stretched or extended."""
    from kinema.pipelines.vsae.edit import stitch_images

    _at_least(1, passes=passes)
    if len(frames) < 2:
        raise typer.BadParameter("give the frame(s), then the output image")
    *images, output = frames
    size = _size(extend) if extend is not None else None
    h, w = stitch_images(model, images, output, stretch_to=stretch, extend_to=size, passes=passes, overwrite=overwrite, device=device_of(device))
    stderr.print(f"wrote {output}: {w}x{h}", highlight=False)


@app.command("pack")
def pack_cmd(
    model: Model,
    source: Source,
    output: Annotated[Path, typer.Argument(help="The packed video: a .kvae file.")],
    keep_every: Annotated[int, typer.Option(help="Keep one frame in this many (and the last); the receiver makes the others.")] = 2,
    scale: Annotated[int, typer.Option(help="Shrink the kept frames this many times; the receiver upscales them by reprojection.")] = 4,
    frames_crf: Annotated[int, typer.Option(help="H.264 quality of the kept frames: 0 is lossless, 51 the coarsest.")] = 0,
    bits: Annotated[int, typer.Option(help="Bits per weight: 16 (float16) or 8 (8-bit, a scale per channel).")] = 16,
    weights: Annotated[bool, typer.Option("--weights/--no-weights", help="Include the model (--no-weights: the stream alone, for a receiver that has the model).")] = True,
    device: Device = "cpu",
    overwrite: Overwrite = False,
) -> None:
    """Write a video as its autoencoder and a few small frames, in one .kvae file."""
    from kinema.pipelines.vsae.transmit import PackConfig, pack

    with usage():
        config = PackConfig(keep_every=keep_every, scale=scale, crf=frames_crf, bits=bits, weights=weights, overwrite=overwrite)
    r = pack(model, source, output, config, device=device_of(device))
    stderr.print(
        f"wrote {r.output}: {r.bytes:,} bytes ({r.weight_bytes:,} weights, {r.frame_bytes:,} for {r.kept} of {r.frames} frames) in {r.seconds:.1f} s",
        highlight=False,
    )


@app.command("unpack")
def unpack_cmd(
    source: Annotated[Path, typer.Argument(help="A .kvae file written by `kinema vsae pack`.")],
    output: MediaOutput,
    model: Annotated[Optional[Path], typer.Option(help="The model the file was packed with, for a file packed --no-weights.")] = None,
    between: Annotated[BetweenName, typer.Option(help="Frames between the kept ones: motion (interpolation engine, then reprojection) or latent (the paper's latent interpolation).")] = BetweenName.motion,
    reproject: Reproject = 5,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Rebuild the full-rate video at the model's size from a .kvae file."""
    from kinema.pipelines.vsae.transmit import Between, UnpackConfig, unpack

    _at_least(0, reproject=reproject)
    with usage():
        config = UnpackConfig(between=Between(between.value), reproject=reproject, output=_output_options(codec, crf), overwrite=overwrite)
    with progress_bar("unpack", quiet=quiet) as progress:
        r = unpack(source, output, config, model=model, device=device_of(device), progress=progress)
    h, w = r.size
    stderr.print(f"wrote {r.output}: {r.frames} frames at {w}x{h} from {r.kept} kept, in {r.seconds:.1f} s", highlight=False)
