"""Remembering work done on a frame, for a stream that shows each frame to two pairs.

A video's frames are interpolated pair by pair, so every frame is the ``b`` of one pair
and the ``a`` of the next: its motion (and, with four-frame motion, its flow towards a
neighbour) is needed twice. :class:`TensorMemo` keys results on the *identity* of the
input tensors — their storage, shape, strides and in-place version counter — and holds
the inputs themselves, so a freed tensor's memory cannot come back under the same key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import torch

T = TypeVar("T")


def _identity(x: torch.Tensor) -> tuple:
    # Tensors made under ``torch.inference_mode`` keep no version counter; kinema never
    # changes a frame in place, so their storage identifies them.
    version = -1 if x.is_inference() else x._version
    return (x.device, x.data_ptr(), tuple(x.shape), x.stride(), x.dtype, version)


class TensorMemo(Generic[T]):
    """The last ``size`` results of ``compute(*inputs)``, found again by the inputs' identity.

    Safe to share between threads (an engine's look-ahead fills it from one while the
    caller reads it from another): two threads asking for one missing result may both
    compute it, and the later one is kept."""

    def __init__(self, size: int = 4):
        if size < 1:
            raise ValueError(f"size must be ≥ 1, got {size}")
        self.size = size
        self._entries: list[tuple[tuple, tuple[torch.Tensor, ...], T]] = []  # newest last
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # A copy starts empty (``copy.deepcopy`` of an engine, a pickled one): what is
        # remembered belongs to the tensors this memo was given.
        return {"size": self.size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["size"])

    def get(self, compute: Callable[..., T], *inputs: torch.Tensor) -> T:
        """The remembered result for ``inputs``, or ``compute(*inputs)``, remembered."""
        value = self.find(*inputs)
        if value is None:
            value = compute(*inputs)
            self.put(value, *inputs)
        return value

    def find(self, *inputs: torch.Tensor) -> T | None:
        key = tuple(_identity(x) for x in inputs)
        with self._lock:
            return next((value for k, _, value in self._entries if k == key), None)

    def put(self, value: T, *inputs: torch.Tensor) -> None:
        key = tuple(_identity(x) for x in inputs)
        with self._lock:
            kept = [e for e in self._entries if e[0] != key]
            # The newest size − 1 others stay (a negative start would wrap and drop entries).
            self._entries = [*kept[max(0, len(kept) - self.size + 1) :], (key, inputs, value)]
