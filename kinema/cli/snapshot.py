"""``kinema snapshot embed | expand | preview``: a clip carried inside one picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.common import DEFAULT_ENGINE, EngineOption, Quality, QualityOption, WeightsOption, make_engine, progress_bar, stderr
from kinema.engines.base import AverageEngine
from kinema.io import OutputOptions, VideoCodec, VideoOptions
from kinema.pipelines.snapshot import EmbedConfig, embed, expand, load_model, preview
from kinema.types import parse_rate
from kinema.weights import snapshot_name

app = typer.Typer(help="Embed a clip in one ordinary picture that looks like its middle frame, and expand it back.", no_args_is_help=True)

FramesOption = Annotated[int, typer.Option(help="Frames per snapshot: 5 (best quality) or 9.")]
StrideOption = Annotated[int, typer.Option(help="Take every S-th frame of the source.")]
MaxSideOption = Annotated[Optional[int], typer.Option(help="Scale frames down so the longer side is at most this.")]
RobustOption = Annotated[
    Optional[bool],
    typer.Option("--jpeg-robust/--no-jpeg-robust", help="Use the weights trained to survive JPEG (default: only for a .jpg output)."),
]
RefineOption = Annotated[int, typer.Option(help="Steps of per-clip optimization of the snapshot (better frames, slower; 0: off).")]
ModelsOption = Annotated[Optional[Path], typer.Option(help="Folder of snapshot weights (default: the shipped ones).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.")]


def _model(frames: int, output: Path, robust: bool | None, models: Path | None):
    if robust is None:
        robust = output.suffix.lower() in (".jpg", ".jpeg")
    name = snapshot_name(frames, jpeg_robust=robust)
    net, digest = load_model(name, models)
    return name, net, digest


def _config(**kwargs) -> EmbedConfig:
    try:
        return EmbedConfig(**kwargs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("embed")
def embed_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder.")],
    output: Annotated[Path, typer.Argument(help="The snapshot: .png (lossless) or .jpg.")],
    frames: FramesOption = 5,
    start: Annotated[int, typer.Option(help="Index of the first frame.")] = 0,
    stride: StrideOption = 1,
    max_side: MaxSideOption = None,
    jpeg_robust: RobustOption = None,
    jpeg_quality: Annotated[int, typer.Option(help="JPEG quality of a .jpg output.")] = 90,
    refine: RefineOption = 20,
    models: ModelsOption = None,
    overwrite: Overwrite = False,
) -> None:
    """Embed FRAMES frames of a clip into one picture."""
    config = _config(start=start, stride=stride, max_side=max_side, quality=jpeg_quality, refine=refine, overwrite=overwrite)
    name, net, digest = _model(frames, output, jpeg_robust, models)
    result = embed(source, output, config, model=name, net=net, digest=digest)
    w, h = result.info.size
    stderr.print(
        f"wrote {result.output}: {frames} frames from {start} every {stride} in one {w}x{h} picture "
        f"({result.snapshot_psnr[0]:.1f} dB from the middle frame, {name}) in {result.seconds:.1f} s",
        highlight=False,
    )


@app.command("preview")
def preview_cmd(
    source: Annotated[Path, typer.Argument(help="A long video (or GIF, or image-sequence folder).")],
    output: Annotated[Path, typer.Argument(help="The sheet of snapshots: .png or .jpg.")],
    count: Annotated[int, typer.Option(help="Snapshots taken evenly across the video.")] = 9,
    frames: FramesOption = 5,
    stride: StrideOption = 2,
    max_side: MaxSideOption = 320,
    jpeg_robust: RobustOption = None,
    jpeg_quality: Annotated[int, typer.Option(help="JPEG quality of a .jpg output.")] = 90,
    refine: RefineOption = 20,
    models: ModelsOption = None,
    overwrite: Overwrite = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """A sheet of snapshots across a long video; `expand` plays it as an animated preview."""
    if count < 1:
        raise typer.BadParameter(f"--count must be ≥ 1, got {count}")
    config = _config(stride=stride, max_side=max_side, quality=jpeg_quality, refine=refine, overwrite=overwrite)
    name, net, digest = _model(frames, output, jpeg_robust, models)
    with progress_bar("preview", quiet=quiet, unit="snapshots") as progress:
        result = preview(source, output, config, count=count, model=name, net=net, digest=digest, progress=progress)
    w, h = result.info.size
    stderr.print(f"wrote {result.output}: {result.info.count} snapshots in a {w}x{h} sheet in {result.seconds:.1f} s", highlight=False)


@app.command("expand")
def expand_cmd(
    snapshot: Annotated[Path, typer.Argument(help="A picture made by `kinema snapshot embed` or `preview`.")],
    output: Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")],
    factor: Annotated[int, typer.Option(help="N frames per embedded interval (1: the k frames only).")] = 4,
    fps: Annotated[Optional[str], typer.Option(help="Output frame rate (default: N × the embedded rate, real time; the embedded rate plays N× slower).")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    models: ModelsOption = None,
    codec: Annotated[VideoCodec, typer.Option(help="Video codec: h264, or lossless ffv1 (.mkv) / png (.mov).")] = VideoCodec.H264,
    crf: Annotated[int, typer.Option(help="H.264 quality, 0 to 51.")] = 18,
    overwrite: Overwrite = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Expand a snapshot back into its frames, and on to more by interpolation."""
    if factor < 1:
        raise typer.BadParameter(f"--factor must be ≥ 1, got {factor}")
    try:
        rate = parse_rate(fps) if fps is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    options = OutputOptions(video=VideoOptions(codec=codec, crf=crf))
    chosen = make_engine(engine, quality, weights) if factor > 1 else AverageEngine()  # no in-betweens: load nothing
    with progress_bar("expand", quiet=quiet) as progress:
        result = expand(snapshot, output, factor=factor, fps=rate, engine=chosen, models=models, output_options=options, overwrite=overwrite, progress=progress)
    stderr.print(
        f"wrote {result.output}: {result.frames_out} frames at {float(result.rate):.3f} fps "
        f"from {result.info.count} snapshot{'s' * (result.info.count > 1)} of {result.info.frames} frames in {result.seconds:.1f} s",
        highlight=False,
    )
