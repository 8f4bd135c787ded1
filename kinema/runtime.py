"""Process-wide settings a caller chooses — the CLI, a batch worker — never library code:
the thread budget of torch and OpenCV, and how freed frame-sized buffers are kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

#: glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Buffers up to this size come from the heap and stay there when freed: a 4K RGB frame in
#: float32 is 100 MB, so every frame and flow a pipeline makes below 8K is reused.
_KEEP_UP_TO = 256 << 20


def configure(threads: int | None = None) -> None:
    """Set this process's thread budget (None: torch's and OpenCV's defaults, every core)
    and keep freed buffers for reuse (:func:`keep_freed_buffers`)."""
    keep_freed_buffers()
    if threads is None:
        return
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


@functools.cache
def keep_freed_buffers() -> bool:
    """Make glibc keep freed large buffers in the heap instead of unmapping them.

    By default glibc serves any buffer above a threshold (128 KiB, rising to at most
    32 MiB) with its own ``mmap`` and gives it back to the kernel when freed, so each
    frame-sized temporary of a video pipeline — a warped frame, a resized flow — is
    fresh memory whose every page faults on first touch, frame after frame. Raising the
    mmap and trim thresholds keeps those pages and reuses them. The peak is what the
    pipeline holds at once either way; what changes is that the process does not shrink
    back after it. Returns whether it applied (glibc only; elsewhere nothing changes).
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_UP_TO)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * _KEEP_UP_TO))
