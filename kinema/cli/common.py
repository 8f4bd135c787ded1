"""Pieces every ``kinema`` sub-command shares: the progress bar and the engine options."""

from __future__ import annotations

import enum
import time
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from kinema.engines.base import Engine
from kinema.engines.classical import ClassicalConfig
from kinema.engines.learned import LearnedConfig
from kinema.engines.spec import ClassicalSpec, EngineSpec, LearnedSpec
from kinema.types import KinemaError, parse_rate

stderr = Console(stderr=True, soft_wrap=True)  # a message stays one line, whatever the terminal width


def _rate(text: str) -> Fraction:
    try:
        return parse_rate(text)
    except KinemaError as exc:
        raise typer.BadParameter(str(exc)) from None


def rate_option(help: str) -> typer.models.OptionInfo:  # noqa: A002 - typer's own word
    """A frame-rate option (``30``, ``29.97``, ``30000/1001``); a bad one is a usage error."""
    return typer.Option(parser=_rate, metavar="RATE", help=help)


@contextmanager
def usage():
    """Option values that a config or option set refuses are usage errors (exit 2), found
    before any work starts."""
    try:
        yield
    except (ValueError, KinemaError) as exc:
        raise typer.BadParameter(str(exc)) from None


#: Seconds between two progress lines when stderr is not a terminal (a log file).
LOG_EVERY = 10.0


@contextmanager
def progress_bar(label: str, *, quiet: bool, unit: str = "frames"):
    """Yields a ``progress(done, total)`` callback drawing a bar on stderr.

    The bar appears at the first frame, so a command that fails while opening its
    input prints only its error line. When stderr is not a terminal (a log, a pipe) a bar
    would show only at the end; there a plain line is printed every :data:`LOG_EVERY`
    seconds instead, and a last one when the work is done.
    """
    if quiet:
        yield None
        return
    if not stderr.is_terminal:
        with _progress_lines(label, unit) as update:
            yield update
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=stderr, transient=False)
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if task is not None:  # a bar never started would still print an empty line
            bar.stop()


@contextmanager
def _progress_lines(label: str, unit: str):
    started = time.monotonic()
    last = {"printed": started, "state": None, "any": False}

    def line(done, total) -> None:
        of = f"/{total:g}" if total else ""
        share = f" ({100 * done / total:.0f} %)" if total else ""
        stderr.print(f"{label}: {done:g}{of} {unit}{share}, {time.monotonic() - started:.0f} s", highlight=False)
        last["printed"], last["any"] = time.monotonic(), True

    def update(done, total) -> None:
        last["state"] = (done, total)
        if time.monotonic() - last["printed"] >= LOG_EVERY:
            line(done, total)

    try:
        yield update
    finally:
        if last["any"] and last["state"] is not None:
            line(*last["state"])


class EngineName(str, enum.Enum):
    learned = "learned"
    classical = "classical"


#: The engine used when --engine is not given: the best one in the benchmark table (the
#: learned engine scores above the classical one on all three sets, at 4 frames/s at 720p).
DEFAULT_ENGINE = EngineName.learned


class Quality(str, enum.Enum):
    fast = "fast"
    balanced = "balanced"
    best = "best"


def engine_spec(name: EngineName, quality: Quality, weights: Path | None = None) -> EngineSpec:
    """The engine the options name; ``quality`` picks the classical preset, or for the
    learned engine the preset of its guiding flows."""
    if weights is not None and name is not EngineName.learned:
        raise typer.BadParameter("--weights applies to --engine learned only")
    if name is EngineName.classical:
        return ClassicalSpec({Quality.fast: ClassicalConfig.fast, Quality.balanced: ClassicalConfig.balanced, Quality.best: ClassicalConfig.quality}[quality]())
    return LearnedSpec(weights, {Quality.fast: LearnedConfig.fast, Quality.balanced: LearnedConfig.balanced, Quality.best: LearnedConfig.best}[quality]())


def make_engine(name: EngineName, quality: Quality, weights: Path | None = None) -> Engine:
    """:func:`engine_spec`, built on the CPU."""
    return engine_spec(name, quality, weights).build("cpu")


EngineOption = Annotated[EngineName, typer.Option(help="Interpolation engine: learned (kinema's trained network) or classical (optical flow, no weights).")]
WeightsOption = Annotated[Optional[Path], typer.Option(help="Weight file for --engine learned (default: the shipped one).")]
QualityOption = Annotated[Quality, typer.Option(help="Engine speed/quality trade-off.")]
