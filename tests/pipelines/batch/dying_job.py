"""A job whose worker process dies (SIGKILL) while running a file, for the runner's tests.
It lives in its own module so worker processes can import it by name."""

import os
import signal
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DyingJob:
    """Kills its worker on the first ``deaths`` attempts at each file (counted in marker
    files beside the output), then writes the output."""

    deaths: int = 1
    suffix: str = ".txt"
    inputs: frozenset = frozenset({".txt"})

    def load(self, device):
        return None

    def run(self, source: Path, output: Path, loaded, device):
        marker = output.with_name(output.name + ".attempts")
        attempts = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(attempts + 1))
        if attempts < self.deaths:
            os.kill(os.getpid(), signal.SIGKILL)
        output.write_text(source.read_text())
        return {"attempts": attempts + 1}
