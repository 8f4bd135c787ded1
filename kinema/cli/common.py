"""Pieces every ``kinema`` sub-command shares: the progress bar and building engines.

Nothing here imports torch until an engine is built (see :mod:`kinema.cli.options`)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from kinema.cli.options import EngineName, Quality

stderr = Console(stderr=True, soft_wrap=True)  # a message stays one line, whatever the terminal width


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
    printed: float | None = None  # when the last line went out (None: none yet)
    state: tuple | None = None

    def line(done, total) -> None:
        nonlocal printed
        of = f"/{total:g}" if total else ""
        share = f" ({100 * done / total:.0f} %)" if total else ""
        stderr.print(f"{label}: {done:g}{of} {unit}{share}, {time.monotonic() - started:.0f} s", highlight=False)
        printed = time.monotonic()

    def update(done, total) -> None:
        nonlocal state
        state = (done, total)
        if time.monotonic() - (printed or started) >= LOG_EVERY:
            line(done, total)

    try:
        yield update
    finally:
        if printed is not None:  # a run that logged its progress also logs its end
            line(*state)


def engine_spec(name: EngineName, quality: Quality, weights: Path | None = None):
    """The engine the options name (an :class:`kinema.engines.spec.EngineSpec`); ``quality``
    picks the classical preset, or for the learned engine the preset of its guiding flows."""
    from kinema.engines.classical import ClassicalConfig
    from kinema.engines.learned import LearnedConfig
    from kinema.engines.spec import ClassicalSpec, LearnedSpec

    if weights is not None and name is not EngineName.learned:
        raise typer.BadParameter("--weights applies to --engine learned only")
    presets = ClassicalConfig if name is EngineName.classical else LearnedConfig
    config = {Quality.fast: presets.fast, Quality.balanced: presets.balanced, Quality.best: presets.best}[quality]()
    return ClassicalSpec(config) if name is EngineName.classical else LearnedSpec(weights, config)


def make_engine(name: EngineName, quality: Quality, weights: Path | None, device):
    """:func:`engine_spec`, built on ``device`` (the classical engine runs on the CPU)."""
    return engine_spec(name, quality, weights).build(device)
