"""ffmpeg's ``minterpolate`` filter as an engine, for the benchmark only (it needs the
``ffmpeg`` program, which kinema itself never does).

Frames travel through pipes as raw RGB; inside ffmpeg they are converted to full-chroma
YUV 4:4:4, so the baseline is not handicapped by chroma subsampling.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import torch

from kinema.engines.base import Engine, check_times

FILTER = "minterpolate=fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir"


def ffmpeg_path() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise SystemExit(
            "ffmpeg is not installed, so the minterpolate baseline cannot run "
            "(Debian/Ubuntu: apt-get install ffmpeg; or pass --skip minterpolate)"
        )
    return path


def _to_rgb24(frames: torch.Tensor) -> bytes:
    array = frames.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    return array.tobytes()


def run_minterpolate(frames: torch.Tensor, factor: int) -> torch.Tensor:
    """A clip ``(N, 3, H, W)`` retimed to ``factor`` × its rate by minterpolate.

    Returns ``((N − 1)·factor + 1, 3, H, W)``: each input, then ``factor − 1`` frames
    between it and the next (the tail minterpolate adds after the last input is dropped).
    """
    n, _, height, width = frames.shape
    # minterpolate holds back its last frames waiting for more; two repeats of the last
    # input flush them (the repeats come after the intervals we keep, so they change nothing).
    frames = torch.cat([frames, frames[-1:], frames[-1:]])
    command = [
        ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", "1", "-i", "-",
        "-vf", f"format=yuv444p,{FILTER.format(fps=factor)},format=rgb24",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    done = subprocess.run(command, input=_to_rgb24(frames), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg minterpolate failed: {done.stderr.decode(errors='replace').strip()}")
    out = np.frombuffer(done.stdout, dtype=np.uint8)
    count = out.size // (height * width * 3)
    wanted = (n - 1) * factor + 1
    if count < wanted:
        raise RuntimeError(f"minterpolate returned {count} frames, expected at least {wanted}")
    out = out[: wanted * height * width * 3].reshape(wanted, height, width, 3)
    return torch.from_numpy(out.copy()).permute(0, 3, 1, 2).float().div(255)


class MinterpolateEngine(Engine):
    """``minterpolate`` (mci, aobmc, bidir) on each pair; times must be multiples of 1/k."""

    name = "minterpolate"

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        times = check_times(times)
        fractions = [Fraction(t).limit_denominator(64) for t in times]
        factor = int(np.lcm.reduce([f.denominator for f in fractions]))
        results = []
        for i in range(a.shape[0]):
            clip = run_minterpolate(torch.stack([a[i], b[i]]), factor)
            results.append(torch.stack([clip[int(f * factor)] for f in fractions]))
        return torch.stack(results).to(a.device, a.dtype)
