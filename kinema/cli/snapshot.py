"""``kinema snapshot embed | expand | preview``: a clip carried inside one picture."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.common import make_engine, progress_bar, stderr
from kinema.cli.options import DEFAULT_ENGINE, Codec, Crf, Device, EngineOption, Overwrite, Quality, QualityOption, Quiet, WeightsOption, rate_option, usage
from kinema.cli.options import device as device_of
from kinema.io.video_out import VideoCodec

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


def _model(frames: int, output: Path, robust: bool | None, models: Path | None, device):
    from kinema.pipelines.snapshot import load_model
    from kinema.weights import snapshot_name

    if robust is None:
        robust = output.suffix.lower() in (".jpg", ".jpeg")
    name = snapshot_name(frames, jpeg_robust=robust)
    net, digest = load_model(name, models, device=device)
    return name, net, digest


def _config(**kwargs):
    from kinema.pipelines.snapshot import EmbedConfig

    with usage():
        return EmbedConfig(**kwargs)


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
    device: Device = "cpu",
    overwrite: Overwrite = False,
) -> None:
    """Embed FRAMES frames of a clip into one picture."""
    from kinema.pipelines.snapshot import embed

    config = _config(start=start, stride=stride, max_side=max_side, quality=jpeg_quality, refine=refine, overwrite=overwrite)
    where = device_of(device)
    name, net, digest = _model(frames, output, jpeg_robust, models, where)
    result = embed(source, output, config, model=name, net=net, digest=digest, device=where)
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
    device: Device = "cpu",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """A sheet of snapshots across a long video; `expand` plays it as an animated preview."""
    from kinema.pipelines.snapshot import preview

    if count < 1:
        raise typer.BadParameter(f"--count must be ≥ 1, got {count}")
    config = _config(stride=stride, max_side=max_side, quality=jpeg_quality, refine=refine, overwrite=overwrite)
    where = device_of(device)
    name, net, digest = _model(frames, output, jpeg_robust, models, where)
    with progress_bar("preview", quiet=quiet, unit="snapshots") as progress:
        result = preview(source, output, config, count=count, model=name, net=net, digest=digest, device=where, progress=progress)
    w, h = result.info.size
    stderr.print(f"wrote {result.output}: {result.info.count} snapshots in a {w}x{h} sheet in {result.seconds:.1f} s", highlight=False)


@app.command("expand")
def expand_cmd(
    snapshot: Annotated[Path, typer.Argument(help="A picture made by `kinema snapshot embed` or `preview`.")],
    output: Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")],
    factor: Annotated[int, typer.Option(help="N frames per embedded interval (1: the k frames only).")] = 4,
    fps: Annotated[Optional[Fraction], rate_option("Output frame rate (default: N × the embedded rate, real time; the embedded rate plays N× slower).")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    models: ModelsOption = None,
    frames: Annotated[Optional[int], typer.Option(help="Only for a picture whose metadata is gone (re-saved by another program): frames it holds, 5 or 9.")] = None,
    jpeg_robust: Annotated[bool, typer.Option("--jpeg-robust", help="With --frames: it was embedded by the JPEG-robust weights.")] = False,
    device: Device = "cpu",
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Expand a snapshot back into its frames, and on to more by interpolation."""
    from kinema.engines.spec import AverageSpec
    from kinema.io import OutputOptions, VideoOptions
    from kinema.pipelines.snapshot import expand
    from kinema.weights import SNAPSHOT_FRAMES, snapshot_name

    if frames is not None and frames not in SNAPSHOT_FRAMES:
        raise typer.BadParameter(f"--frames must be one of {', '.join(map(str, SNAPSHOT_FRAMES))}, got {frames}")
    if jpeg_robust and frames is None:
        raise typer.BadParameter("--jpeg-robust applies with --frames (a picture whose metadata is gone)")

    if factor < 1:
        raise typer.BadParameter(f"--factor must be ≥ 1, got {factor}")
    with usage():
        options = OutputOptions(video=VideoOptions(codec=codec, crf=crf))
        options.validate()
    where = device_of(device)
    chosen = make_engine(engine, quality, weights, where) if factor > 1 else AverageSpec().build(where)  # no in-betweens: load nothing
    with progress_bar("expand", quiet=quiet) as progress:
        result = expand(
            snapshot, output, factor=factor, fps=fps, engine=chosen, models=models, output_options=options, overwrite=overwrite,
            device=where, progress=progress, without_metadata=None if frames is None else snapshot_name(frames, jpeg_robust=jpeg_robust),
        )  # fmt: skip
    stderr.print(
        f"wrote {result.output}: {result.frames_out} frames at {float(result.rate):.3f} fps "
        f"from {result.info.count} snapshot{'s' * (result.info.count > 1)} of {result.info.frames} frames in {result.seconds:.1f} s",
        highlight=False,
    )
