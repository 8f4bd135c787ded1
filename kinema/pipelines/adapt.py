"""``--adapt N``: fit the learned engine to the video it is about to interpolate."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from itertools import islice
from pathlib import Path

import torch

from kinema.engines.learned import LearnedEngine
from kinema.io.probe import open_reader
from kinema.types import BadInputError

#: Frames read for adaptation: the start of the video (bounded memory and decode time).
MAX_FRAMES = 120


def adapt_to_video(
    engine: LearnedEngine,
    source: Path,
    steps: int,
    *,
    source_fps: Fraction | None = None,
    max_frames: int = MAX_FRAMES,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fine-tune ``engine`` for ``steps`` steps on the first ``max_frames`` frames of
    ``source``; returns how many frames it read. ``progress(done, total)`` after each step.
    Raises :class:`BadInputError` when the video is too short or never moves."""
    frames = [frame.image for frame in islice(open_reader(Path(source), fps=source_fps), max_frames)]
    if len(frames) < 3:
        raise BadInputError(f"{source}: --adapt needs at least 3 frames, the video has {len(frames)}")
    report = None if progress is None else (lambda step, _loss: progress(step, steps))
    try:
        engine.adapt(torch.stack(frames), steps, seed=seed, progress=report)
    except ValueError as exc:
        raise BadInputError(f"{source}: cannot adapt to this video ({exc})") from None
    return len(frames)
