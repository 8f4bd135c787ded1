"""Concurrent stages for file-to-file work: decode ahead, encode behind.

A retiming job is decode → engine → encode. Run one after another, two cores take turns:
PyAV, OpenCV and torch release the GIL while they work, so the reader and the writer can
run in their own threads beside the engine. Both stages keep order (one FIFO each) and
bounded memory (``depth`` frames in flight), and neither changes a byte: the same
frames reach the same writer in the same order.

Failure in any stage stops the others: an exception in the reader is raised where the
consumer asks for the next frame; one in the writer is raised by the next ``write`` or
by ``close``; a consumer that stops early (an exception, Ctrl-C) closes the reader,
whose thread then ends instead of decoding on, and aborts the writer, so no partial
output appears.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from kinema.io.atomic import AtomicWriter
from kinema.types import Frame

T = TypeVar("T")
#: How often a blocked stage looks whether it should stop (seconds).
_POLL = 0.1


class _End:
    """The producer is done; ``error`` is what stopped it, if anything."""

    def __init__(self, error: BaseException | None = None):
        self.error = error


class Prefetch(Generic[T]):
    """Iterate ``items`` in a background thread, up to ``depth`` ahead; ``prepare(item)``
    runs in that thread too (e.g. turning a decoded frame into floats). Use it as a context
    manager (or call :meth:`close`) so that the thread stops when the consumer does."""

    def __init__(self, items: Iterable[T], *, depth: int = 4, prepare: Callable[[T], object] | None = None):
        if depth < 1:
            raise ValueError(f"depth must be ≥ 1, got {depth}")
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items, prepare), name="kinema-decode", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterable[T], prepare) -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if prepare is not None:
                    prepare(item)
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_End(exc))
            return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None and self._stop.is_set():
                close()  # a reader's generator: its file is closed now, not at exit
        self._put(_End())

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                self._stop.set()
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BackgroundWriter(AtomicWriter):
    """``writer`` fed from a thread, up to ``depth`` frames behind the caller. ``close``
    waits for the queue to drain and then closes ``writer`` (the output appears);
    ``abort`` drops what is queued and aborts it (nothing appears)."""

    def __init__(self, writer: AtomicWriter, *, depth: int = 4):
        if depth < 1:
            raise ValueError(f"depth must be ≥ 1, got {depth}")
        self.writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kinema-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                frame = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if frame is None:
                return
            try:
                self.writer.write(frame)
            except BaseException as exc:
                self._error = exc
                self._stop.set()
                return

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _offer(self, item: Frame | None, *, check: bool = True) -> bool:
        """Queue ``item`` while the thread runs (``check``: raising its error as soon as it
        fails); False if it stopped first."""
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=_POLL)
                return True
            except queue.Full:
                if check:
                    self._raise()
        return False

    def write(self, frame: Frame) -> None:
        self._raise()
        if not self._offer(frame):
            self._raise()
            raise RuntimeError("the encoding stage has stopped")

    def close(self) -> Path:
        self._offer(None, check=False)  # the end: the thread writes what is queued, then returns
        self._thread.join()
        if self._error is not None:
            self.writer.abort()
            raise self._error
        return self.writer.close()

    def abort(self) -> None:
        self._stop.set()
        while True:  # unblock the thread and drop what it has not written
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()
        self.writer.abort()


class StageClock:
    """Seconds per stage name, accumulated: ``with clock("engine"): ...`` (``--profile``)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
