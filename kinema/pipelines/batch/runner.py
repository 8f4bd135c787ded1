"""Run a job over many files on a pool of workers, resumably, recording every outcome.

The driver (this module) decides what to make, hands units of work to a :class:`Pool`
(local processes here, Ray actors in :mod:`kinema.pipelines.batch.ray_pool`), and
appends one JSON line per file to the report as each finishes. Nothing is half-written:
every output is renamed into place when complete, the temporaries a killed worker leaves
are removed before and after a run, and a rerun skips finished outputs.

A worker that dies (killed, out of memory) takes the units it was running with it; each
is retried once on a fresh worker, and a unit that dies twice fails its file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import torch

from kinema.pipelines.batch.jobs import Job, Row, Split, Unit
from kinema.pipelines.batch.lifeline import Driver, bind_to
from kinema.pipelines.batch.plan import Task, clean_partials, duplicates, is_complete
from kinema.runtime import configure
from kinema.types import KinemaError

#: ``progress(files finished, files in the batch)``; the first is fractional while a long
#: video's parts come in (each part moves it by a share of that file).
Progress = Callable[[float, int], None]


class WorkerDied(Exception):
    """The worker running a unit exited before answering."""


class LoadError(KinemaError):
    """A worker could not load the job's models: no file can be processed."""


@dataclass(frozen=True)
class Done:
    """A unit's answer from a worker."""

    result: Row | Split
    seconds: float
    worker: str


class Pool(Protocol):
    """Runs units on workers that each loaded the job once."""

    slots: int

    def submit(self, key: Any, unit: Unit) -> None: ...

    def wait(self) -> list[tuple[Any, Done | BaseException]]:
        """At least one finished unit: its key and answer (or the exception it raised)."""

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: after their units (``abort`` False) or at once."""


# -- local processes ---------------------------------------------------------------------

_loaded: Any = None
_load_error: str | None = None
_device: Any = "cpu"


def spread_device(device: str, slot: int, gpus: int) -> str:
    """The device of worker number ``slot``: a bare ``cuda`` goes round the ``gpus`` GPUs
    (worker 0 on cuda:0, worker 1 on cuda:1, …); any other device is kept."""
    return f"cuda:{slot % gpus}" if device == "cuda" and gpus > 1 else device


def start_worker(job: Job, threads: int, device: str, driver: Driver) -> tuple[Any, str | None]:
    """What every worker (process or actor) does once: ``(loaded, None)``, or
    ``(None, why)`` when the job cannot load (reported on the first unit)."""
    bind_to(driver)
    # Both libraries default to one thread per core; bounding both keeps ``workers ×
    # threads`` cores busy, not more, and makes a worker's output independent of the pool
    # (OpenCV's DIS flow gives slightly different fields at different thread counts).
    configure(threads)
    torch.set_flush_denormal(True)  # trained networks make denormals, slow on x86
    try:
        return job.load(device), None
    except Exception as exc:
        return None, describe_error(exc)


def _init_worker(job: Job, threads: int, device: str, counter, driver: Driver) -> None:
    global _loaded, _load_error, _device
    with counter.get_lock():  # which worker this is, to spread workers over GPUs
        slot, counter.value = counter.value, counter.value + 1
    _device = spread_device(device, slot, torch.cuda.device_count() if device == "cuda" else 0)
    _loaded, _load_error = start_worker(job, threads, _device, driver)


def describe_error(exc: BaseException) -> str:
    """One line: kinema's own message, or the exception's type and first line."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if isinstance(exc, KinemaError) else f"{type(exc).__name__}: {text}"


def perform(unit: Unit, loaded: Any, device: Any, load_error: str | None) -> Done:
    """What every worker (process or actor) does with a unit."""
    if load_error is not None:
        raise LoadError(f"a worker could not load the job: {load_error}")
    started = time.perf_counter()
    result = unit(loaded, device)
    return Done(result, time.perf_counter() - started, f"pid {os.getpid()}")


def _execute(unit: Unit) -> Done:
    return perform(unit, _loaded, _device, _load_error)


class LocalPool:
    """``workers`` processes with ``threads`` torch threads each (spawned, not forked:
    torch's thread pools do not survive a fork). With ``device="cuda"`` and several GPUs,
    the workers take the GPUs in turn (:func:`spread_device`)."""

    def __init__(self, job: Job, *, workers: int, threads: int = 1, device: str = "cpu"):
        if workers < 1 or threads < 1:
            raise ValueError(f"workers and threads must be ≥ 1, got {workers} and {threads}")
        self.slots = workers
        context = multiprocessing.get_context("spawn")
        self._start = partial(
            ProcessPoolExecutor,
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(job, threads, device, context.Value("i", 0), Driver()),
        )
        self._executor: ProcessPoolExecutor | None = None  # started at the first unit
        self._futures: dict = {}

    def submit(self, key: Any, unit: Unit) -> None:
        # Workers are spawned here; they start with Ctrl-C ignored (the disposition
        # survives exec), so it reaches the driver alone, which stops them in order.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._executor = self._executor or self._start()
            self._futures[self._executor.submit(_execute, unit)] = key
        finally:
            signal.signal(signal.SIGINT, previous)

    def wait(self) -> list[tuple[Any, Done | BaseException]]:
        finished, _ = wait(self._futures, return_when=FIRST_COMPLETED)
        answers, broken = [], False
        for future in finished:
            key = self._futures.pop(future)
            error = future.exception()
            broken |= isinstance(error, BrokenProcessPool)
            answers.append((key, WorkerDied() if isinstance(error, BrokenProcessPool) else error or future.result()))
        if broken:
            # The executor is unusable once one worker dies; every unit it held is lost.
            answers += [(key, WorkerDied()) for key in self._futures.values()]
            self._futures.clear()
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None  # a fresh one at the next unit
        return answers

    def close(self, *, abort: bool = False) -> None:
        if self._executor is None:
            return
        if abort:
            # The executor has no public way to stop running units; its worker processes
            # are killed (their outputs are temporaries, removed by the driver).
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.kill()
        self._executor.shutdown(wait=True, cancel_futures=True)


# -- the driver --------------------------------------------------------------------------


class Report:
    """The JSON-lines report, one line per finished file. A line the disk refuses (full)
    is kept and written with the next one; a line is never left half-written."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.pending: list[bytes] = []

    def write(self, entry: dict) -> None:
        self.pending.append((json.dumps(entry) + "\n").encode())
        self.flush()

    def flush(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            return
        try:
            while self.pending:
                size = os.fstat(fd).st_size
                try:
                    written = os.write(fd, self.pending[0])
                except OSError:
                    written = -1
                if written != len(self.pending[0]):
                    os.ftruncate(fd, size)  # no half line: the whole one comes later
                    return
                self.pending.pop(0)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.flush()
        if self.pending:
            raise KinemaError(f"{self.path}: {len(self.pending)} report lines could not be written (disk full?); the outputs on disk are complete")



@dataclass
class Summary:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    report: Path | None = None
    #: ``(input, reason)`` of every failed file, in the order they failed.
    failures: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class _File:
    task: Task
    seconds: float = 0.0
    parts_left: int = 0
    parts_total: int = 0
    join: Unit | None = None
    rows: list[Row] = field(default_factory=list)
    error: str | None = None


def _reason(error: BaseException) -> str:
    if isinstance(error, WorkerDied):
        return "the worker process died twice on this file (killed, or out of memory)"
    return describe_error(error)


def run_batch(
    tasks: list[Task],
    job: Job,
    pool: Pool,
    *,
    report: Path,
    output_dir: Path,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Summary:
    """Make every task's output on ``pool``; one line per file is appended to ``report``
    (``status`` done / skipped / failed, with the ``reason`` of a failure). Raises
    :class:`LoadError` when the workers cannot load the job."""
    started = time.perf_counter()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    clean_partials(output_dir)
    summary = Summary(report=report)
    files = [_File(t) for t in tasks]
    clashing = duplicates(tasks)
    queue: deque[tuple[tuple, Unit]] = deque()
    attempts: dict[tuple, int] = {}
    finished = 0
    # Pools lost one after another with no unit answering in between: the workers cannot
    # start (a broken install, a main module they cannot import), not a file's fault.
    deaths_in_a_row = 0

    log = Report(report)

    def close_file(i: int, status: str) -> None:
        nonlocal finished
        f = files[i]
        entry = {"input": str(f.task.source), "output": str(f.task.output), "status": status}
        if status == "failed":
            entry["reason"] = f.error
            summary.failures.append((f.task.source, f.error))
        if status == "done":
            entry["seconds"] = round(f.seconds, 3)
            entry.update(f.rows[-1])
        log.write(entry)
        setattr(summary, status, getattr(summary, status) + 1)
        finished += 1
        f.parts_total = 0  # its share now counts whole, in ``finished``
        report_progress()

    def report_progress() -> None:
        if progress is not None:
            shares = sum((f.parts_total - f.parts_left) / (f.parts_total + 1) for f in files if f.parts_total)
            progress(finished + shares, len(files))

    for i, f in enumerate(files):
        if f.task.output.resolve() in clashing:
            f.error = "another input writes the same output: " + ", ".join(map(str, clashing[f.task.output.resolve()]))
            close_file(i, "failed")
        elif not overwrite and is_complete(f.task.output):
            close_file(i, "skipped")
        else:
            try:
                f.task.output.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a full or read-only output disk: this file fails
                f.error = f"{f.task.output.parent}: {exc.strerror or exc}"
                close_file(i, "failed")
                continue
            queue.append((("file", i), partial(job.run, f.task.source, f.task.output)))

    inflight: dict[tuple, Unit] = {}
    completed = False
    try:
        while queue or inflight:
            while queue and len(inflight) < pool.slots:
                key, unit = queue.popleft()
                inflight[key] = unit
                pool.submit(key, unit)
            answers = pool.wait()
            if all(isinstance(a, WorkerDied) for _, a in answers):
                deaths_in_a_row += 1
                if deaths_in_a_row >= 3:
                    raise LoadError("the worker processes keep dying before finishing anything (see their messages above)")
            else:
                deaths_in_a_row = 0
            for key, answer in answers:
                unit = inflight.pop(key)
                kind, i = key[0], key[1]
                f = files[i]
                if isinstance(answer, LoadError):
                    raise answer
                if isinstance(answer, WorkerDied) and attempts.get(key, 0) == 0:
                    attempts[key] = 1
                    queue.appendleft((key, unit))  # retried once, first in line
                    continue
                if isinstance(answer, BaseException):
                    f.error = f.error or _reason(answer)
                    f.parts_left -= kind == "part"
                    if kind != "part" or f.parts_left == 0:
                        close_file(i, "failed")
                    continue
                f.seconds += answer.seconds
                if isinstance(answer.result, Split):
                    # A long video's parts go first in line: its file is finished
                    # (and its parts' disk space freed) before new files start.
                    f.parts_left = f.parts_total = len(answer.result.parts)
                    f.join = answer.result.join
                    queue.extendleft(reversed([(("part", i, k), u) for k, u in enumerate(answer.result.parts)]))
                    continue
                f.rows.append(answer.result)
                if kind == "part":
                    f.parts_left -= 1
                    report_progress()
                    if f.parts_left == 0:
                        if f.error is None:
                            queue.appendleft((("join", i), f.join))
                        else:
                            close_file(i, "failed")
                    continue
                close_file(i, "done")
        completed = True
    finally:
        pool.close(abort=not completed)  # Ctrl-C or a load error: stop at once
        clean_partials(output_dir)
    log.close()
    summary.seconds = time.perf_counter() - started
    return summary
