import ctypes.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None, reason="glibc only")
def test_configure_sets_both_thread_budgets_and_keeps_freed_buffers():
    # A fresh process: thread budgets are process-wide.
    code = (
        "import cv2, torch\n"
        "from kinema.runtime import configure, keep_freed_buffers\n"
        "configure(1)\n"
        "print(torch.get_num_threads(), cv2.getNumThreads(), keep_freed_buffers())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1", "True"]
