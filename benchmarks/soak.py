"""Soak: ``kinema batch`` over a few hundred generated files while things go wrong.

    python -m benchmarks.soak [--files 200] [--ray] [--write]

The folder holds ``--files`` small clips, one in ten of them corrupt (truncated,
random bytes, empty). The batch (``interpolate --factor 2 --engine classical``, 2 workers)
writes to a small tmpfs (Linux, root) and, while it runs, has workers SIGKILLed at random
and the disk filled for a while. Then it is run again until nothing is left to do. It
checks: every good input ends with exactly one valid output, every bad one is in the report
as failed, no temporary is left, nothing was lost, and a last rerun makes nothing new.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.report import write_block
from kinema.io.probe import probe
from tests.media import make_video

KINEMA = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())"]


def _make_inputs(folder: Path, count: int, rng: random.Random) -> tuple[list[Path], list[Path]]:
    good, bad = [], []
    for i in range(count):
        path = folder / f"g{i % 10}" / f"clip{i:03d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 10 == 7:
            kind = rng.choice(["truncated", "random", "empty"])
            if kind == "truncated":
                make_video(path, 8, size=(32, 48))
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
            elif kind == "random":
                path.write_bytes(rng.randbytes(4000))
            else:
                path.write_bytes(b"")
            bad.append(path)
        else:
            make_video(path, 16 + i % 5, size=(96, 128), audio=i % 4 == 0)
            good.append(path)
    return good, bad


def _workers(driver: int, ray: bool) -> list[int]:
    """The batch's worker processes: the driver's spawned children, or Ray's actors."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if ray and cmdline.startswith(b"ray::_Worker"):
                found.append(int(entry.name))
            elif not ray and int(stat.rsplit(")", 1)[1].split()[1]) == driver and b"spawn_main" in cmdline:
                found.append(int(entry.name))
    return found


def _mount(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)


def _run(source: Path, out: Path, *, ray: bool, chaos: bool, rng: random.Random, disk: Path) -> dict:
    command = [*KINEMA, "batch", "interpolate", str(source), str(out), "--factor", "2", "--engine", "classical",
               "--quality", "fast", "--workers", "2", "--threads", "1", "-q"] + (["--ray"] if ray else [])  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    killed, filled = 0, 0.0
    if chaos:

        def havoc() -> None:
            nonlocal killed, filled
            time.sleep(1.0)
            while process.poll() is None and killed < 4:
                time.sleep(rng.uniform(2.0, 4.0))  # a worker needs about 1.5 s to start
                workers = _workers(process.pid, ray)
                if workers:
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    killed += 1
                if killed == 2 and not filled:  # the disk full for a few seconds
                    ballast = disk / "ballast"
                    started = time.monotonic()
                    subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=64k"], capture_output=True)
                    time.sleep(6.0)
                    ballast.unlink(missing_ok=True)
                    filled = time.monotonic() - started

        thread = threading.Thread(target=havoc, daemon=True)
        thread.start()
    _, err = process.communicate(timeout=1800)
    summary = next((line for line in err.splitlines() if line.startswith("batch:")), err.strip().splitlines()[-1:] or [""])
    summary = (summary if isinstance(summary, str) else summary[0]).split(" (report:")[0]
    return {"status": process.returncode, "summary": summary, "killed": killed, "full_seconds": round(filled, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--ray", action="store_true", help="on a local Ray instead of the process pool")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        raise SystemExit("the soak mounts a small tmpfs: Linux and root only")
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        good, bad = _make_inputs(tmp / "in", args.files, rng)
        disk = tmp / "disk"
        _mount(disk, "16m")
        try:
            out = disk / "out"
            runs = [_run(tmp / "in", out, ray=args.ray, chaos=True, rng=rng, disk=disk)]
            while len(runs) < 5:
                runs.append(_run(tmp / "in", out, ray=args.ray, chaos=False, rng=rng, disk=disk))
                if " 0 done" in runs[-1]["summary"]:
                    break
            report = [json.loads(line) for line in (out / "kinema-batch.jsonl").read_text().splitlines()]
            outputs = sorted(p for p in out.rglob("*.mp4"))
            expected = sorted(out / p.relative_to(tmp / "in") for p in good)
            valid = sum(1 for p in outputs if probe(p).frame_count == 2 * probe(tmp / "in" / p.relative_to(out)).frame_count)
            failed_bad = {r["input"] for r in report if r["status"] == "failed"} & {str(p) for p in bad}
            leftovers = [p for p in out.rglob("*") if ".kinema-" in p.name]
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    lost = len(set(expected) - set(outputs))
    rows = [
        f"| files | {args.files} ({len(good)} good, {len(bad)} corrupt) |",
        f"| pool | {'local Ray, 2 actors' if args.ray else 'process pool, 2 workers'} |",
        f"| workers SIGKILLed during the first run | {runs[0]['killed']} |",
        f"| disk full during the first run | {runs[0]['full_seconds']} s |",
        *[f"| run {i + 1} | {r['summary']} (exit {r['status']}) |" for i, r in enumerate(runs)],
        f"| outputs / valid (2× the frames) / expected | {len(outputs)} / {valid} / {len(expected)} |",
        f"| corrupt inputs reported failed | {len(failed_bad)} of {len(bad)} |",
        f"| temporaries left | {len(leftovers)} |",
        f"| **lost** | **{lost}** |",
    ]
    text = "| what | measured |\n| --- | --- |\n" + "\n".join(rows) + f"\n\n`python -m benchmarks.soak --files {args.files}{' --ray' if args.ray else ''}`."
    print(text)
    if args.write:
        write_block("soak-ray" if args.ray else "soak", text)
    ok = lost == 0 and valid == len(outputs) == len(expected) and len(failed_bad) == len(bad) and not leftovers and " 0 done" in runs[-1]["summary"]
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
