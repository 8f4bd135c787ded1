"""Every option more than one command takes, declared once.

Importing this module imports no torch: ``kinema --help`` and ``kinema info`` start fast.
Values that a config refuses become usage errors (exit 2) through :func:`usage`; a bad
frame rate or device is one already while the command line is parsed.
"""

from __future__ import annotations

import enum
import re
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.io.video_out import OddSize, VideoCodec
from kinema.types import CutMode, DeblurMode, KinemaError, parse_rate


def _rate(text: str) -> Fraction:
    try:
        return parse_rate(text)
    except KinemaError as exc:
        raise typer.BadParameter(str(exc)) from None


def rate_option(help: str) -> typer.models.OptionInfo:  # noqa: A002 - typer's own word
    """A frame-rate option (``30``, ``29.97``, ``30000/1001``); a bad one is a usage error."""
    return typer.Option(parser=_rate, metavar="RATE", help=help)


_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _device(text: str) -> str:
    if not _DEVICE.match(text):
        raise typer.BadParameter(f"{text!r} is not a device (use cpu, cuda, cuda:N or mps)")
    return text


def device(name: str):
    """``name`` as a ``torch.device``, refused (exit 2) when this machine has no such device."""
    import torch  # only commands that run a network get here

    found = torch.device(name)
    if found.type == "cuda" and (not torch.cuda.is_available() or (found.index or 0) >= torch.cuda.device_count()):
        raise typer.BadParameter(f"--device {name}: no such CUDA device here ({torch.cuda.device_count()} found)")
    if found.type == "mps" and not torch.backends.mps.is_available():
        raise typer.BadParameter("--device mps: not available here")
    torch.set_flush_denormal(True)  # trained networks make denormals, many times slower on x86 CPUs
    return found


def use_threads(count: int | None) -> None:
    """The thread budget of this process (``--threads``): the CLI chooses it, library code
    never does. None leaves torch's and OpenCV's defaults (every core). Freed frame
    buffers are kept for reuse either way (:mod:`kinema.runtime`)."""
    from kinema.runtime import configure

    configure(count)


@contextmanager
def usage():
    """Option values that a config or option set refuses are usage errors (exit 2), found
    before any work starts."""
    try:
        yield
    except (ValueError, KinemaError) as exc:
        raise typer.BadParameter(str(exc)) from None


class EngineName(str, enum.Enum):
    learned = "learned"
    classical = "classical"


#: The engine used when --engine is not given: the best one in the benchmark table.
DEFAULT_ENGINE = EngineName.learned


class Quality(str, enum.Enum):
    fast = "fast"
    balanced = "balanced"
    best = "best"


MediaOutput = Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", "-y", help="Replace existing outputs (never an input, nor a folder kinema did not write).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Threads = Annotated[
    Optional[int],
    typer.Option(min=1, help="CPU threads of each process that runs a model (torch and OpenCV); default: every core (batch: cores ÷ workers)."),
]
Device = Annotated[str, typer.Option(parser=_device, help="Where networks run: cpu, cuda, cuda:N or mps (a batch gives each Ray worker one GPU).")]
Codec = Annotated[VideoCodec, typer.Option(help="Video codec: h264, or lossless ffv1 (.mkv) / png (.mov).")]
Crf = Annotated[int, typer.Option(help="H.264 quality, 0 (lossless luma) to 51; 18 is visually transparent.")]
Preset = Annotated[str, typer.Option(help="H.264 speed preset, ultrafast … veryslow.")]
OddSizeOption = Annotated[OddSize, typer.Option(help="Odd frame sizes for H.264: pad, crop or error.")]
Audio = Annotated[bool, typer.Option("--audio/--no-audio", help="Copy the source's audio unchanged.")]
SceneCuts = Annotated[
    CutMode,
    typer.Option(
        "--scene-cuts",
        help="Scene changes: auto (the learned detector, a pass over the file first: cuts, fades and dissolves; no in-between across a cut, none mistaken inside a dissolve), quick (hard cuts, pair by pair) or off.",
    ),
]
BlendDissolves = Annotated[
    bool, typer.Option("--blend-dissolves", help="With --scene-cuts auto: cross-fade the in-betweens inside fades and dissolves instead of the engine's (the engine measured better).")
]
SourceFps = Annotated[Optional[Fraction], rate_option("Frame rate of an image-sequence input without kinema.json (default 25).")]
Factor = Annotated[Optional[int], typer.Option(help="N× the frame rate, same duration.")]
TargetFps = Annotated[Optional[Fraction], rate_option("Constant output frame rate, e.g. 60, 59.94 or 60000/1001.")]
Slowmo = Annotated[Optional[int], typer.Option(help="N× slower: N× the frames at the source rate (audio dropped).")]
Adapt = Annotated[int, typer.Option(help="Fine-tune the learned engine on each video for N steps first (test-time adaptation; ~0.3 s a step).")]
EngineOption = Annotated[EngineName, typer.Option("--engine", help="Interpolation engine: learned (kinema's trained network) or classical (optical flow, no weights).")]
QualityOption = Annotated[Quality, typer.Option("--quality", help="Engine speed/quality trade-off.")]
WeightsOption = Annotated[Optional[Path], typer.Option("--weights", help="Weight file for --engine learned (default: the shipped one).")]
DeblurOption = Annotated[
    DeblurMode,
    typer.Option("--deblur", help="Restore motion-blurred source frames first: on, auto (only when a look at a few frames finds them blurred) or off."),
]
DeblurWeights = Annotated[Optional[Path], typer.Option("--deblur-weights", help="Weight file of the deblurring network (default: the shipped one).")]
