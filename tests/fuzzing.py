"""Fuzzing every file kinema reads: small valid seeds made in code, a mutator, and the
readers that consume each kind.

A mutant passes when its reader returns normally or raises a :class:`KinemaError` (what
the CLI prints as one line); anything else — another exception, a hang past the time
limit — is a finding. ``tests/io/test_fuzz.py`` runs a short, seeded pass in the suite;
``python -m benchmarks.fuzz`` the long one, in-process and through ``kinema info`` in a
subprocess with a memory ceiling.
"""

from __future__ import annotations

import json
import shutil
import signal
import struct
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kinema.types import KinemaError
from tests.media import make_gif, make_video

#: Seconds one mutant may take in-process before it counts as a hang.
TIME_LIMIT = 20


@dataclass(frozen=True)
class Seed:
    """A valid file (or a folder, with ``member`` the file in it that is mutated)."""

    name: str
    path: Path
    consume: Callable[[Path], object]
    member: str | None = None

    def target(self, root: Path) -> Path:
        return root / self.member if self.member else root


def place(seed: Seed, folder: Path, data: bytes) -> Path:
    """A copy of ``seed`` in ``folder`` with its (member) file's bytes replaced by ``data``."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / seed.path.name
    if root.exists():
        shutil.rmtree(root) if root.is_dir() else root.unlink()
    if seed.path.is_dir():
        shutil.copytree(seed.path, root)
    seed.target(root).write_bytes(data)
    return root


def _read_media(path: Path) -> int:
    from kinema.io.probe import open_reader, probe

    probe(path)
    return sum(1 for _ in open_reader(path))


def _read_snapshot(path: Path) -> object:
    from kinema.io.snapshot_file import read_snapshot

    return read_snapshot(path)


def _read_weights(path: Path) -> object:
    from kinema.models.gif2video import DitherNet

    model, _ = DitherNet.load(path)
    with torch.inference_mode():
        return model(torch.rand(1, 3, 16, 16))


def _read_vsae(path: Path) -> object:
    from kinema.pipelines.vsae.fit import load_video_model

    model = load_video_model(path)
    size = model.size  # what every vsae command reads from the metadata first
    model.check(path, "0" * 64)
    return size


def make_seeds(folder: Path) -> list[Seed]:
    """One small valid file of every kind kinema reads, under ``folder``."""
    from kinema.io.snapshot_file import SnapshotInfo, write_snapshot
    from kinema.models.gif2video import DitherConfig, DitherNet
    from kinema.models.video_ae import VideoAE, VideoAEConfig
    from kinema.pipelines.convert import ConvertConfig, convert

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    seeds = [
        Seed("mp4", make_video(folder / "a.mp4", 4, size=(32, 48), audio=True), _read_media),
        Seed("gif", make_gif(folder / "a.gif", [100, 50, 200], size=(16, 24), transparent=True), _read_media),
    ]
    mkv = make_video(folder / "b.mkv", 4, size=(32, 48), codec="ffv1", pix_fmt="yuv420p")
    seeds.append(Seed("mkv", mkv, _read_media))
    frames = folder / "frames"
    convert(seeds[0].path, frames, ConvertConfig())
    seeds.append(Seed("frames-json", frames, _read_media, member="kinema.json"))
    seeds.append(Seed("frames-png", frames, _read_media, member="frame_000001.png"))
    info = SnapshotInfo(frames=5, model="snapshot-5", digest="0123abcd", fps="25/1", stride=1, starts=(0,), source="a.mp4",
                        source_size=(48, 32), size=(24, 16), tile=(24, 16))  # fmt: skip
    seeds.append(Seed("snapshot-png", write_snapshot(folder / "s.png", torch.rand(3, 16, 24), info), _read_snapshot))
    seeds.append(Seed("snapshot-jpg", write_snapshot(folder / "s.jpg", torch.rand(3, 16, 24), info), _read_snapshot))
    seeds.append(Seed("weights", DitherNet(DitherConfig.tiny()).save(folder / "w.safetensors", metrics={"accuracy": 1.0}), _read_weights))
    meta = {"source": {"name": "a.mp4", "frames": 4, "sha256": "0" * 64}, "size": [32, 48], "fps": "25/1"}
    seeds.append(Seed("vsae", VideoAE(VideoAEConfig.tiny()).save(folder / "m.safetensors", **meta), _read_vsae))
    return seeds


# -- the mutator ---------------------------------------------------------------------------

Op = tuple  # ("truncate", fraction) | ("flip", position, bit) | ("huge", position) | ("zero", position, length) | ("swap", a, b, length) | ("insert", position, bytes)


def mutate(data: bytes, ops: list[Op]) -> bytes:
    """Apply ``ops`` in turn; positions are fractions of the current length, so one op list
    fits files of any size. ``huge`` writes 0xFFFFFFF0 over four bytes, the classic length
    field set huge; ``swap`` exchanges two chunks (reordering)."""
    buf = bytearray(data)
    for op in ops:
        n = len(buf)
        if n == 0:
            break
        at = lambda fraction: min(n - 1, int(fraction * n))  # noqa: E731
        kind = op[0]
        if kind == "truncate":
            del buf[at(op[1]) :]
        elif kind == "flip":
            buf[at(op[1])] ^= 1 << op[2]
        elif kind == "huge":
            i = at(op[1])
            buf[i : i + 4] = struct.pack(">I", 0xFFFFFFF0)
        elif kind == "zero":
            i = at(op[1])
            buf[i : i + op[2]] = bytes(len(buf[i : i + op[2]]))
        elif kind == "swap":
            i, j, length = at(op[1]), at(op[2]), op[3]
            a, b = bytes(buf[i : i + length]), bytes(buf[j : j + length])
            if len(a) == len(b) and (i + length <= j or j + length <= i):
                buf[i : i + length], buf[j : j + length] = b, a
        elif kind == "insert":
            i = at(op[1])
            buf[i:i] = op[2]
    return bytes(buf)


def json_mutants(text: str) -> list[str]:
    """Field edits of a JSON sidecar that byte mutations rarely reach: values of the wrong
    type, huge or negative numbers, missing keys."""
    data = json.loads(text)
    out = []
    for key in list(data):
        for value in (None, -1, 10**12, "x", [], {"a": 1}, 1e308):
            out.append(json.dumps({**data, key: value}))
        out.append(json.dumps({k: v for k, v in data.items() if k != key}))
    return out


@contextmanager
def time_limit(seconds: int):
    """Raise ``TimeoutError`` in the body after ``seconds`` (Unix, main thread)."""

    def expire(signum, frame):
        raise TimeoutError(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_mutant(seed: Seed, root: Path) -> str | None:
    """Consume the (already mutated) input at ``root``; the finding, or None if it passed."""
    try:
        with time_limit(TIME_LIMIT):
            seed.consume(root)
    except KinemaError:
        return None
    except TimeoutError as exc:
        return f"hang: {exc}"
    except Exception as exc:  # noqa: BLE001 - every other exception is what we are looking for
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
    return None


def rng_ops(rng: np.random.Generator, count: int) -> list[Op]:
    """Random mutation ops (for the long run; the suite draws them with Hypothesis)."""
    ops: list[Op] = []
    for _ in range(count):
        kind = rng.choice(["truncate", "flip", "flip", "huge", "zero", "swap", "insert"])
        u = float(rng.random())
        if kind == "truncate":
            ops.append(("truncate", u))
        elif kind == "flip":
            ops.append(("flip", u, int(rng.integers(8))))
        elif kind == "huge":
            ops.append(("huge", u))
        elif kind == "zero":
            ops.append(("zero", u, int(rng.integers(1, 64))))
        elif kind == "swap":
            ops.append(("swap", u, float(rng.random()), int(rng.integers(1, 64))))
        else:
            ops.append(("insert", u, bytes(rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8))))
    return ops



