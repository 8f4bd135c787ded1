"""Which output times a retimed video has, decided from the source frames' timestamps.

Two ways to place them:

* :class:`RateSchedule` — a constant target rate F: times ``start + j/F`` for every ``j``
  with ``start + j/F < end``. The output lasts ``ceil((end − start)·F)/F``: never shorter
  than the source, and longer by less than one output frame.
* :class:`FactorSchedule` — ``N`` evenly spaced times in every source frame interval
  (the last frame's interval ends at its pts + duration), so VFR sources keep their
  rhythm and the output holds exactly ``N ×`` the source frames.

Both are fed source frames as they stream in (``feed``) and hand out the times that
are already certain (``take``, as ``(time, duration)`` slots); :meth:`finish` releases the rest once the end is known.
Slots are handed out lazily (iterators, to be used up before the next ``feed``), so a long
gap at a high rate never builds a list of millions of times.
All arithmetic is on :class:`fractions.Fraction`, so no time drifts by rounding.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from fractions import Fraction

#: One output frame: (time, duration), in seconds.
Slot = tuple[Fraction, Fraction]


class RateSchedule:
    """Output times at a constant rate ``rate`` (frames per second)."""

    def __init__(self, rate: Fraction, *, start: Fraction | None = None):
        """``start``: the time of output frame 0 (default: the first source frame's pts)."""
        if rate <= 0:
            raise ValueError(f"output rate must be positive, got {rate}")
        self.rate = Fraction(rate)
        self.start: Fraction | None = start
        self._next = 0  # index j of the next time to hand out
        self._fed = False

    def feed(self, pts: Fraction, duration: Fraction) -> None:
        if self._fed:
            return
        self._fed = True
        if self.start is None:
            self.start = pts
        # A source that begins after ``start`` (a later part of a video) gets the output
        # times from its first frame on.
        self._next = max(0, math.ceil((pts - self.start) * self.rate))

    def _time(self, j: int) -> Fraction:
        return self.start + Fraction(j) / self.rate

    def take(self, before: Fraction) -> Iterator[Slot]:
        """Output slots not yet taken whose time is earlier than ``before``."""
        while self.start is not None and self._time(self._next) < before:
            self._next += 1
            yield self._time(self._next - 1), 1 / self.rate

    def finish(self, end: Fraction) -> Iterator[Slot]:
        return self.take(end)

    def count(self, duration: Fraction) -> int:
        """How many frames a source of this ``duration`` becomes."""
        return math.ceil(duration * self.rate)


class FactorSchedule:
    """``factor`` evenly spaced output times per source frame interval."""

    def __init__(self, factor: int):
        if factor < 1:
            raise ValueError(f"factor must be at least 1, got {factor}")
        self.factor = factor
        self._last: tuple[Fraction, Fraction] | None = None  # (pts, duration) of the newest frame
        self._ready: deque[tuple[Fraction, Fraction, int]] = deque()  # (start, step, next k)

    def _split(self, start: Fraction, end: Fraction) -> None:
        self._ready.append((start, (end - start) / self.factor, 0))

    def feed(self, pts: Fraction, duration: Fraction) -> None:
        if self._last is not None:
            self._split(self._last[0], pts)
        self._last = (pts, duration)

    def take(self, before: Fraction | None) -> Iterator[Slot]:
        """Slots not yet taken earlier than ``before`` (all of them for None)."""
        while self._ready:
            start, step, k = self._ready[0]
            if before is not None and start + k * step >= before:
                return
            self._ready[0] = (start, step, k + 1)
            if k + 1 == self.factor:
                self._ready.popleft()
            yield start + k * step, step

    def finish(self, end: Fraction) -> Iterator[Slot]:
        if self._last is not None:
            self._split(self._last[0], max(end, self._last[0] + self._last[1]))
            self._last = None
        return self.take(None)

    def count(self, frames: int) -> int:
        return frames * self.factor
