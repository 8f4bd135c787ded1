"""Data-parallel training: the same script on one process, or on N under ``torchrun``.

Every process (rank) draws the *whole* global batch from the same seeded generator and
keeps its own contiguous share of it, so the random stream — and a saved training state —
is identical whatever the number of processes. DistributedDataParallel averages the
gradients of equal shares, which is the gradient of the global batch's mean loss: the
update, and the logged (all-reduced) loss, equal the single-process run's up to the
order of float sums. Only rank 0 writes logs, states and weights.

    torchrun --nproc_per_node 2 -m kinema.train.run_gif2video ccdnet --out runs/x ...
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Replica:
    """This process's place in a data-parallel run (rank 0 of 1 when run alone)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes files (logs, states, weights)."""
        return self.rank == 0

    def share(self, batch: int) -> slice:
        """This rank's samples of a global batch of ``batch``."""
        if batch % self.world:
            raise ValueError(f"the batch ({batch}) must divide evenly over {self.world} processes")
        size = batch // self.world
        return slice(self.rank * size, (self.rank + 1) * size)

    def wrap(self, module: nn.Module, device: torch.device | str) -> nn.Module:
        """``module`` with its gradients averaged over the ranks (itself when alone)."""
        if self.world == 1:
            return module
        ids = [torch.device(device).index] if torch.device(device).type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def mean(self, value: torch.Tensor) -> float:
        """The average of a scalar over the ranks (for logging the global batch's loss)."""
        if self.world == 1:
            return float(value.detach())
        value = value.detach().clone().reshape(1)
        dist.all_reduce(value)
        return float(value[0]) / self.world

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


class Method(nn.Module):
    """``method(module, ...)`` as a module's forward, so DistributedDataParallel can wrap a
    network that is trained through another method (``Method(net, CCDNet.estimates)``)."""

    def __init__(self, module: nn.Module, method: Callable):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args):
        return self.method(self.module, *args)


def join(device: str = "cpu") -> tuple[Replica, str]:
    """The :class:`Replica` torchrun's environment describes, with the process group
    started (gloo on CPU, NCCL on CUDA), and this rank's device (``cuda`` becomes
    ``cuda:LOCAL_RANK``). Without torchrun: rank 0 of 1 and ``device`` unchanged."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Replica(), device
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        device = f"cuda:{local}"
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return Replica(rank, world), device


def leave() -> None:
    """Shut the process group down (call it in a ``finally``). On a clean exit each rank
    first waits for the others: rank 0 still writes files after the last collective, and a
    rank that tore down its gloo connections meanwhile was seen to abort ("terminate called
    without an active exception"). With an exception in flight the peers may never reach
    the barrier, so then it only tears down."""
    if dist.is_initialized():
        if sys.exc_info()[0] is None:
            dist.barrier()
        dist.destroy_process_group()


def end_rank() -> None:
    """End a torchrun rank at once, skipping interpreter finalization. Call it last, once
    every file is written. Gloo's worker threads can still hold finished work objects at
    exit; destroying those while the interpreter shuts down aborted a rank now and then
    ("terminate called without an active exception", about one run in fifty on 2 cores),
    after all its work was done. Outside torchrun it does nothing."""
    if "LOCAL_RANK" not in os.environ or "TORCHELASTIC_RUN_ID" not in os.environ:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
