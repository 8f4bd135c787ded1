"""What every ``kinema vsae`` command shares: the sub-app, the model and video arguments,
the reprojection option and small checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.io.video_out import VideoCodec

app = typer.Typer(help="Fit an autoencoder to one video, then map, summarize, loop, retime, upscale and edit it, carry masks through it, and pack it for sending.", no_args_is_help=True)

Model = Annotated[Path, typer.Argument(help="A model written by `kinema vsae fit`.")]
Source = Annotated[Path, typer.Argument(help="The video the model was fit on (video, GIF, or image-sequence folder).")]
#: The largest shrink ``vsae fit --multi-res`` trains for (the paper's 32x example).
MULTI_RES = 32

LearnedPath = Annotated[
    Optional[Path], typer.Option("--path", help="A latent path learned by `kinema vsae path` for this model: in-betweens follow it instead of a straight line.")
]
Reproject = Annotated[int, typer.Option(help="Extra passes through the autoencoder that pull a synthesized frame onto the video (the paper's n = 5).")]


def at_least(low: int, **options: int) -> None:
    """Option values below ``low`` are usage errors."""
    for name, value in options.items():
        if value < low:
            raise typer.BadParameter(f"--{name} must be ≥ {low}, got {value}")


def inputs_then_output(paths: list[Path]) -> list[Path]:
    """Positional paths ending in the output: refused unless there is an input too."""
    if len(paths) < 2:
        raise typer.BadParameter("give the input(s), then the output")
    return paths


def output_options(codec: VideoCodec, crf: int):
    """The video output of ``--codec`` / ``--crf``."""
    from kinema.io import OutputOptions, VideoOptions

    return OutputOptions(video=VideoOptions(codec=codec, crf=crf))
