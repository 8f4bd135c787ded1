"""``kinema vsae pack | unpack``: a video sent as its model and a few small frames."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import Codec, Crf, Device, MediaOutput, Overwrite, Quiet, usage
from kinema.cli.options import device as device_of
from kinema.cli.vsae.common import Model, Source, app, output_options
from kinema.io.video_out import VideoCodec


class BetweenName(str, enum.Enum):
    """``vsae pack/unpack --between``: :class:`kinema.pipelines.vsae.packed.Between` by name,
    declared here so the CLI starts without importing torch (a test checks they agree)."""

    motion = "motion"
    latent = "latent"


BetweenOption = Annotated[
    BetweenName, typer.Option(help="Frames between the kept ones: motion (the interpolation engine, then reprojection) or latent (the paper's latent interpolation, then reprojection).")
]


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
    between: BetweenOption = BetweenName.motion,
    choose: Annotated[bool, typer.Option("--choose/--no-choose", help="Rebuild as the receiver will and record per frame the reprojections (and, for kept frames, back-projection or not) that come closest to the video (one character a frame).")] = True,
    device: Device = "cpu",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Write a video as its autoencoder and a few small frames, in one .kvae file."""
    from kinema.pipelines.vsae.packed import Between
    from kinema.pipelines.vsae.transmit import PackConfig, pack

    with usage():
        config = PackConfig(keep_every=keep_every, scale=scale, crf=frames_crf, bits=bits, weights=weights, between=Between(between.value), choose=choose, overwrite=overwrite)
    with progress_bar("pack", quiet=quiet) as progress:
        r = pack(model, source, output, config, device=device_of(device), progress=progress)
    stderr.print(
        f"wrote {r.output}: {r.bytes:,} bytes ({r.weight_bytes:,} weights, {r.frame_bytes:,} for {r.kept} of {r.frames} frames) in {r.seconds:.1f} s",
        highlight=False,
    )


@app.command("unpack")
def unpack_cmd(
    source: Annotated[Path, typer.Argument(help="A .kvae file written by `kinema vsae pack`.")],
    output: MediaOutput,
    model: Annotated[Optional[Path], typer.Option(help="The model the file was packed with, for a file packed --no-weights.")] = None,
    between: Annotated[Optional[BetweenName], typer.Option(help="Override how the file says to make the frames between kept ones: motion or latent.")] = None,
    reproject: Annotated[Optional[int], typer.Option(help="Passes through the autoencoder for every frame (0-5), instead of what the sender chose per frame.")] = None,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Rebuild the full-rate video at the model's size from a .kvae file."""
    from kinema.pipelines.vsae.packed import Between
    from kinema.pipelines.vsae.transmit import UnpackConfig, unpack

    with usage():
        config = UnpackConfig(between=None if between is None else Between(between.value), reproject=reproject, output=output_options(codec, crf), overwrite=overwrite)
    with progress_bar("unpack", quiet=quiet) as progress:
        r = unpack(source, output, config, model=model, device=device_of(device), progress=progress)
    h, w = r.size
    stderr.print(f"wrote {r.output}: {r.frames} frames at {w}x{h} from {r.kept} kept, in {r.seconds:.1f} s", highlight=False)
