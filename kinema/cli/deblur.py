"""``kinema deblur``: the same frames, sharp, at the same times."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinema.cli.app import app
from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import Audio, Codec, Crf, DeblurWeights, Device, MediaOutput, Overwrite, Preset, Quiet, SourceFps, Threads, usage, use_threads
from kinema.cli.options import device as device_of
from kinema.io.video_out import VideoCodec


@app.command("deblur")
def deblur_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    output: MediaOutput,
    auto: Annotated[bool, typer.Option("--auto", help="Look at a few frames first; if they are sharp, write the frames as they are (no restoration).")] = False,
    deblur_weights: DeblurWeights = None,
    device: Device = "cpu",
    threads: Threads = None,
    overwrite: Overwrite = False,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    preset: Preset = "medium",
    source_fps: SourceFps = None,
    audio: Audio = True,
    quiet: Quiet = False,
) -> None:
    """Remove motion blur: every frame restored, same frame count and timing (audio kept)."""
    from kinema.io import OutputOptions, VideoOptions
    from kinema.pipelines.convert import ConvertConfig
    from kinema.pipelines.deblur import deblur_video
    from kinema.types import DeblurMode

    with usage():
        config = ConvertConfig(output=OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset)), fps=source_fps, audio=audio, overwrite=overwrite)
    use_threads(threads)
    where = device_of(device)
    mode = DeblurMode.AUTO if auto else DeblurMode.ON
    with progress_bar("deblur", quiet=quiet) as progress:
        result, check = deblur_video(source, output, config, mode=mode, weights=deblur_weights, device=where, progress=progress)
    if not quiet:
        if check is not None:
            stderr.print(check.describe(), highlight=False)
        extra = ", audio copied" if result.audio_copied else ""
        stderr.print(f"wrote {result.output} ({result.frames} frames{extra}) in {result.seconds:.1f} s", highlight=False)
