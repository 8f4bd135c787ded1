"""Workers die with the driver that started them.

A worker that outlives a killed driver would go on for minutes, then rename an output that
no report records. Two guards, both set up once per worker:

* on Linux, the kernel kills a process-pool worker the moment its parent exits
  (``PR_SET_PDEATHSIG``), so not even the current frame is finished;
* everywhere, and for Ray actors (whose parent is Ray's raylet, not the driver), a daemon
  thread looks once a second whether the driver still runs and ends the worker if not.

A worker on another machine than its driver (a Ray cluster) cannot see the driver's
process; there Ray itself ends actors whose owner is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1

#: Seconds between two looks at the driver.
POLL = 1.0


@dataclass(frozen=True)
class Driver:
    """The process a worker must not outlive (made in the driver, sent to each worker)."""

    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)


def _driver_gone(driver: Driver, parent_is_driver: bool) -> bool:
    if parent_is_driver:
        return os.getppid() != driver.pid  # re-parented: the driver exited
    try:
        os.kill(driver.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user now has the pid
        return True
    return False


def _kill_on_parent_exit() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watching thread still guards
        pass


def bind_to(driver: Driver) -> bool:
    """End this process when ``driver`` exits. Returns False where that cannot be seen
    (the driver runs on another machine)."""
    if driver.host != socket.gethostname():
        return False
    parent_is_driver = os.getppid() == driver.pid
    if parent_is_driver:
        _kill_on_parent_exit()

    def watch() -> None:
        while not _driver_gone(driver, parent_is_driver):
            time.sleep(POLL)
        os._exit(1)  # its temporaries are removed by the driver's next run

    if _driver_gone(driver, parent_is_driver):  # it died while this worker started
        os._exit(1)
    threading.Thread(target=watch, name="kinema-lifeline", daemon=True).start()
    return True
