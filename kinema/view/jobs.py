"""Long work for ``kinema view``, one job at a time on one worker thread, with progress.

The networks use every core already, so running two jobs at once would only make both
slower; what a request asks for waits in a short queue, and a request that would make the
queue longer than :attr:`Jobs.max_pending` is refused (the server answers 429). Results
are kept in memory for the last :data:`KEEP` jobs. :meth:`Jobs.close` cancels what is
queued and stops a running job at its next progress report, so Ctrl-C never waits for a
long job to end.
"""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from kinema.types import KinemaError

log = logging.getLogger(__name__)

#: Finished jobs whose results stay available.
KEEP = 32


class Busy(Exception):
    """Too many jobs asked for and not finished."""


class Cancelled(Exception):
    """The server is stopping."""


@dataclass(eq=False)
class Job:
    id: str
    label: str
    state: str = "queued"  # queued, running, done, failed, cancelled
    progress: float = 0.0
    message: str = ""
    #: What the job found (JSON), and its file: bytes, media type, download name.
    result: dict = field(default_factory=dict)
    data: bytes | None = None
    media_type: str = ""
    filename: str = ""
    #: Counted against :attr:`Jobs.max_pending` (a request's), or not (the start-up loads).
    bounded: bool = True

    def describe(self) -> dict:
        out = {"id": self.id, "label": self.label, "state": self.state, "progress": round(self.progress, 3), "message": self.message, "result": self.result}
        if self.data is not None:
            out["url"] = f"/api/jobs/{self.id}/file"
            out["media_type"], out["filename"] = self.media_type, self.filename
        return out


#: A job's work: given a progress callback, returns ``(result, data, media type, file name)``.
Work = Callable[[Callable[[float], None]], tuple[dict, bytes | None, str, str]]


class Jobs:
    def __init__(self, *, max_pending: int = 4):
        self.max_pending = max_pending
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, Work] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._order = itertools.count()
        self._worker = threading.Thread(target=self._run, name="kinema-view-jobs", daemon=True)
        self._worker.start()

    def submit(self, label: str, work: Work, *, bounded: bool = True) -> Job:
        with self._lock:
            if self._closed.is_set():
                raise Busy("the server is stopping")
            waiting = sum(j.bounded and j.state in ("queued", "running") for j in self._jobs.values())
            if bounded and waiting >= self.max_pending:
                raise Busy(f"{waiting} jobs are already waiting; try again when one has finished")
            # Unguessable: a job's result is only for whoever asked for it.
            job = Job(id=f"{next(self._order)}-{secrets.token_hex(8)}", label=label, bounded=bounded)
            self._jobs[job.id] = job
            self._forget_old()
        self._queue.put((job, work))
        return job

    def get(self, ident: str) -> Job | None:
        with self._lock:
            return self._jobs.get(ident)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def close(self, timeout: float = 5.0) -> None:
        """Cancel queued jobs, stop the running one at its next report, wait for the worker."""
        self._closed.set()
        self._queue.put(None)
        self._worker.join(timeout)

    def _forget_old(self) -> None:
        done = [k for k, j in self._jobs.items() if j.state in ("done", "failed", "cancelled")]
        for k in done[: max(0, len(done) - KEEP)]:
            del self._jobs[k]

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            job, work = item
            if self._closed.is_set():
                job.state = "cancelled"
                continue
            job.state = "running"

            def report(share: float, job=job) -> None:
                if self._closed.is_set():
                    raise Cancelled()
                job.progress = max(0.0, min(1.0, float(share)))

            try:
                result, data, media_type, filename = work(report)
            except Cancelled:
                job.state = "cancelled"
            except (KinemaError, ValueError, OSError) as exc:  # bad input, as the CLI would say it
                job.state, job.message = "failed", str(exc)
            except Exception as exc:  # a bug: keep the server up, and say what happened
                job.state, job.message = "failed", f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed", job.label)
            else:
                job.result, job.data, job.media_type, job.filename = result, data, media_type, filename
                job.progress, job.state = 1.0, "done"
        # Anything still queued when the server stopped.
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                item[0].state = "cancelled"
