"""``kinema codec encode | decode``: a video to kinema's learned codec (``.kvc``) and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import Codec, Crf, Device, MediaOutput, Overwrite, Preset, Quiet, Threads, use_threads
from kinema.cli.options import device as device_of
from kinema.io.video_out import VideoCodec

app = typer.Typer(help="Code a video with kinema's learned codec (.kvc: motion + residual, learned entropy models) and decode it.", no_args_is_help=True)

CodecWeights = Annotated[Optional[Path], typer.Option("--weights", help="Codec weight file (default: the shipped one). Decoding needs the weights that encoded.")]


def _engine(weights: Path | None, device: str):
    from kinema.pipelines.codec import load_engine

    return load_engine(weights, device=device_of(device))


@app.command("encode")
def encode_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    output: Annotated[Path, typer.Argument(help="The coded video: a .kvc file.")],
    quality: Annotated[Optional[int], typer.Option(help="Quality level, 1 (smallest file) to 5 (best picture); default 3.")] = None,
    bpp: Annotated[Optional[float], typer.Option(help="Target bits per pixel: the best level whose first GOP fits (instead of --quality).")] = None,
    adapt: Annotated[int, typer.Option(help="Tune the encoder to this video for N steps first (the stock decoder still reads the stream).")] = 0,
    gop: Annotated[int, typer.Option(help="Frames per group of pictures: an I-frame, then P-frames; a reader can start at any group.")] = 12,
    weights: CodecWeights = None,
    device: Device = "cpu",
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Code a video into a .kvc stream (audio is not carried: the command says so)."""
    from kinema.pipelines.codec import encode_video

    if quality is not None and bpp is not None:
        raise typer.BadParameter("give --quality or --bpp, not both", param_hint="--quality/--bpp")
    if bpp is not None and bpp <= 0:
        raise typer.BadParameter("must be positive", param_hint="--bpp")
    if gop < 1 or adapt < 0:
        raise typer.BadParameter("--gop must be at least 1 and --adapt at least 0", param_hint="--gop/--adapt")
    use_threads(threads)
    engine = _engine(weights, device)
    if quality is not None and not 1 <= quality <= engine.levels:
        raise typer.BadParameter(f"must be 1 to {engine.levels}", param_hint="--quality")
    with progress_bar("encode", quiet=quiet) as progress:
        result = encode_video(source, output, level=quality, bpp=bpp, gop=gop, adapt=adapt, engine=engine, overwrite=overwrite, progress=progress)
    if not quiet:
        if result.audio == "dropped":
            stderr.print("note: the source's audio is not carried by .kvc and was dropped", highlight=False)
        stderr.print(
            f"wrote {result.output} ({result.frames} frames, level {result.level}, {result.bytes} bytes, {result.bpp:.4f} bpp) in {result.seconds:.1f} s",
            highlight=False,
        )


@app.command("decode")
def decode_cmd(
    source: Annotated[Path, typer.Argument(help="A .kvc file.")],
    output: MediaOutput,
    start_gop: Annotated[int, typer.Option(help="Start at this group of pictures (0-based), using the stream's index.")] = 0,
    weights: CodecWeights = None,
    device: Device = "cpu",
    threads: Threads = None,
    overwrite: Overwrite = False,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    preset: Preset = "medium",
    quiet: Quiet = False,
) -> None:
    """Decode a .kvc stream to video, GIF or PNG frames with its exact timestamps. A damaged
    stream is decoded up to the damage; the frames before it are written and the command exits 1."""
    from kinema.io import OutputOptions, VideoOptions
    from kinema.pipelines.codec import decode_video
    from kinema.types import KinemaError

    if start_gop < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--start-gop")
    use_threads(threads)
    engine = _engine(weights, device)
    options = OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset))
    with progress_bar("decode", quiet=quiet) as progress:
        result = decode_video(source, output, engine=engine, start_gop=start_gop, output_options=options, overwrite=overwrite, progress=progress)
    if result.damage is not None:
        # Partial success is still a failure: the frames before the damage are kept.
        raise KinemaError(f"{result.damage}; wrote the {result.frames} frames before it to {result.output}")
    if not quiet:
        stderr.print(f"wrote {result.output} ({result.frames} frames) in {result.seconds:.1f} s", highlight=False)
