"""``kinema vsae upscale | propagate | edit | stitch``: frames of a video changed through its model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import (
    Audio,
    Codec,
    Crf,
    Device,
    MediaOutput,
    Overwrite,
    Quiet,
    SourceFps,
    usage,
)
from kinema.cli.options import device as device_of
from kinema.cli.vsae.common import Model, Source, app, at_least, output_options
from kinema.io.video_out import VideoCodec


@app.command("upscale")
def upscale_cmd(
    model: Model,
    source: Annotated[Path, typer.Argument(help="Small frames of the video the model was fit on (video, GIF, or image-sequence folder).")],
    output: MediaOutput,
    scale: Annotated[int, typer.Option(help="How many times smaller SOURCE is than the model's frames; OUTPUT is SOURCE's size × this.")] = 4,
    reproject: Annotated[int, typer.Option(help="Passes through the autoencoder after the first (iterative reprojection).")] = 5,
    consistent: Annotated[bool, typer.Option(help="Tie every pass back to SOURCE (back-projection), so the output shrinks back to it.")] = True,
    fallback: Annotated[bool, typer.Option("--fallback", help="For frames the model never saw: where it draws what SOURCE does not show, lean towards bicubic.")] = False,
    audio: Audio = True,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    device: Device = "cpu",
    source_fps: SourceFps = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Super-resolution by reprojection: small frames of the model's video drawn at its size."""
    from kinema.pipelines.vsae.upscale import FALLBACK, UpscaleConfig, upscale

    with usage():
        config = UpscaleConfig(scale=scale, reproject=reproject, consistent=consistent, fallback=FALLBACK if fallback else None, output=output_options(codec, crf), source_fps=source_fps, audio=audio, overwrite=overwrite)
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
        config = PropagateConfig(codes_weight=codes_weight, output=output_options(codec, 0), overwrite=overwrite)
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

    at_least(0, passes=passes)
    if (remove is None) == (insert is None):
        raise typer.BadParameter("give --remove, or --insert with --at")
    if (insert is None) != (at is None):
        raise typer.BadParameter("--insert and --at go together")
    if insert is not None:
        result = insert_frame(model, source, output, insert, at, passes=passes or 6, overwrite=overwrite, device=device_of(device), fps=source_fps)
        stderr.print(f"wrote {result.output} in {result.seconds:.1f} s", highlight=False)
        return
    with usage():
        options = output_options(codec, crf)
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

    at_least(1, passes=passes)
    if len(frames) < 2:
        raise typer.BadParameter("give the frame(s), then the output image")
    *images, output = frames
    size = _size(extend) if extend is not None else None
    h, w = stitch_images(model, images, output, stretch_to=stretch, extend_to=size, passes=passes, overwrite=overwrite, device=device_of(device))
    stderr.print(f"wrote {output}: {w}x{h}", highlight=False)
