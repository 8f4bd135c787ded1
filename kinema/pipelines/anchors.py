"""Which frames motion is interpolated between: a video's distinct drawings.

Frames that only repeat their predecessor (animation on twos or threes, screen captures)
are set aside so that motion runs between the drawings; longer runs of repeats are pauses
and stay. Each frame's thumbnail for the repeat and scene-cut tests is made once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import torch

from kinema.ops.scenes import is_repeat, thumbnail
from kinema.pipelines.stages import StageClock
from kinema.types import Frame


class Thumbnails:
    """Each frame's thumbnail for the repeat and cut tests (:func:`kinema.ops.scenes.thumbnail`),
    made once: a frame is tested with the one before it and with the one after it."""

    def __init__(self, keep: int = 5, clock: StageClock | None = None):
        self._keep = keep
        self._clock = clock
        self._held: list[tuple[Frame, torch.Tensor]] = []  # newest last

    def __call__(self, frame: Frame) -> torch.Tensor:
        for held, small in self._held:
            if held is frame:
                return small
        with self._clock("tests") if self._clock is not None else contextlib.nullcontext():
            small = thumbnail(frame.image[None])
        self._held = [*self._held[1 - self._keep :], (frame, small)]
        return small


def anchors(
    frames: Iterator[Frame], max_repeats: int, counts=None, thumbs: Thumbnails | None = None
) -> Iterator[tuple[Frame, bool]]:
    """The frames motion is interpolated between: ``frames`` minus short runs of repeats.

    Yields ``(frame, clean)``: ``clean`` marks an anchor after which the detector holds no
    history (it is the newest distinct drawing), so a stream that starts there finds the
    same anchors from then on; :mod:`kinema.pipelines.chunked` cuts long videos at them.
    ``counts`` (anything with an integer ``repeats``) tallies the repeats bridged.
    """
    counts = counts if counts is not None else SimpleNamespace(repeats=0)
    thumbs = thumbs if thumbs is not None else Thumbnails()
    previous: Frame | None = None
    held: Frame | None = None  # the newest repeat of ``previous``
    run = 0
    for frame in frames:
        if previous is not None and max_repeats and bool(is_repeat(thumbs(previous), thumbs(frame))[0]):
            held, run = frame, run + 1
            continue
        if held is not None:
            if run > max_repeats:
                yield held, False  # a pause: motion resumes only after it
            else:
                counts.repeats += run
        held, run = None, 0
        yield frame, True
        previous = frame
    if held is not None:
        yield held, False  # the video ends on a still
