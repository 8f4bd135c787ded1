"""The batch on Ray: one actor per worker loads the job's models once and runs units.

The same driver (:func:`kinema.pipelines.batch.runner.run_batch`) hands out units, so a
Ray batch and a local one make the same outputs, resume the same way and write the same
report. Files are read and written by path: on a cluster every node must see the input
and output folders at the same paths (a shared filesystem).

Needs the optional extra: ``pip install "kinema[ray]"``.
"""

from __future__ import annotations

import logging
from typing import Any

from kinema.pipelines.batch.jobs import Job, Unit
from kinema.pipelines.batch.lifeline import Driver
from kinema.pipelines.batch.runner import Done, WorkerDied, perform, start_worker
from kinema.types import KinemaError


def _ray():
    try:
        import ray
    except ImportError:
        raise KinemaError('Ray is not installed: pip install "kinema[ray]"') from None
    return ray


class _Worker:
    """The actor's class (made remote in :class:`RayPool`, so importing this module does
    not need Ray)."""

    def __init__(self, job: Job, threads: int, device: str, driver: Driver):
        self.device = device
        self.loaded, self.error = start_worker(job, threads, device, driver)

    def run(self, unit: Unit) -> Done:
        return perform(unit, self.loaded, self.device, self.error)


class RayPool:
    """``workers`` actors of ``threads`` CPUs each (and one GPU each when ``device`` is
    CUDA). ``address``: None starts a local Ray of ``workers × threads`` CPUs; ``"auto"``
    joins the cluster this machine is part of; ``"ray://host:10001"`` a remote one."""

    def __init__(self, job: Job, *, workers: int, threads: int = 1, device: str = "cpu", address: str | None = None):
        if workers < 1 or threads < 1:
            raise ValueError(f"workers and threads must be ≥ 1, got {workers} and {threads}")
        self._ray = _ray()  # a missing install fails now, not at the first file
        self.slots = workers
        self._setup = (job, workers, threads, str(device), address)
        self._actor_class = None  # Ray starts at the first unit: a finished batch needs none
        self._owns_ray = False
        self._idle: list = []
        self._running: dict[Any, tuple[Any, Any]] = {}  # ref -> (key, actor)

    def _start(self) -> None:
        ray, (_, workers, threads, device, address) = self._ray, self._setup
        if not ray.is_initialized():
            if address is None:
                ray.init(address="local", num_cpus=workers * threads, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            self._owns_ray = True
        gpus = 1 if device.startswith("cuda") else 0
        self._actor_class = ray.remote(num_cpus=threads, num_gpus=gpus)(_Worker)
        self._idle = [self._new_actor() for _ in range(workers)]

    def _new_actor(self):
        job, _, threads, device, _ = self._setup
        return self._actor_class.remote(job, threads, device, Driver())

    def submit(self, key: Any, unit: Unit) -> None:
        if self._actor_class is None:
            self._start()
        actor = self._idle.pop()
        self._running[actor.run.remote(unit)] = (key, actor)

    def wait(self) -> list[tuple[Any, Done | BaseException]]:
        ray = self._ray
        ready, _ = ray.wait(list(self._running), num_returns=1)
        answers = []
        for ref in ready:
            key, actor = self._running.pop(ref)
            try:
                answers.append((key, ray.get(ref)))
            except ray.exceptions.RayActorError:
                answers.append((key, WorkerDied()))
                actor = self._new_actor()  # a fresh actor replaces it
            except ray.exceptions.RayTaskError as error:
                # The worker's own exception (a KinemaError for bad input) travels as the cause.
                answers.append((key, error.cause if error.cause is not None else error))
            self._idle.append(actor)
        return answers

    def close(self, *, abort: bool = False) -> None:  # actors are killed either way
        for actor in self._idle + [actor for _, actor in self._running.values()]:
            self._ray.kill(actor)
        self._idle, self._running = [], {}
        if self._owns_ray:
            self._ray.shutdown()
