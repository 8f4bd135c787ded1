"""Fuzz every reader kinema owns or wraps: many mutants per kind of file, in-process, and a
share of them through ``kinema info`` in a subprocess under a memory ceiling.

    python -m benchmarks.fuzz [--mutants 300] [--subprocess-every 10] [--write]

A mutant passes when it ends in a valid result or a one-line ``kinema: error:``; a
traceback, another exception, a hang past the time limit, a crash of the interpreter or
memory past the ceiling is a finding. Prints a table of mutants and findings per reader.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.report import write_block
from tests.fuzzing import TIME_LIMIT, json_mutants, make_seeds, mutate, place, rng_ops, run_mutant, time_limit

#: Address-space ceiling of a subprocess run (bytes).
MEMORY_CEILING = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CEILING, MEMORY_CEILING))


def _commands(seed_name: str, path: Path, out: Path) -> list[list[str]]:
    """``kinema info`` and the command that consumes the file, for one mutant."""
    if seed_name.startswith("snapshot"):
        return [["snapshot", "expand", str(path), str(out / "o.mp4"), "--factor", "1", "-q"]]
    return [["info", str(path)], ["convert", str(path), str(out / "o.mkv"), "--codec", "ffv1", "-q"]]


def _subprocess(seed_name: str, path: Path, out: Path) -> str | None:
    """Each command exits 0, or 1 with one ``kinema: error:`` line; none leaves a temporary."""
    for args in _commands(seed_name, path, out):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        command = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())", *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT + 10, preexec_fn=_limit_memory)
        except subprocess.TimeoutExpired:
            return f"{args[0]}: subprocess hang"
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        ok = done.returncode == 0 or (done.returncode == 1 and len(lines) == 1 and lines[0].startswith("kinema: error: "))
        if not ok:
            return f"{args[0]}: subprocess exit {done.returncode}: {(lines or ['(no output)'])[-1][:160]}"
        if any(".kinema-" in p.name for p in out.iterdir()):
            return f"{args[0]}: a temporary was left behind"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=300, help="mutants per reader")
    parser.add_argument("--subprocess-every", type=int, default=10, help="every N-th mutant also through `kinema info` in a subprocess")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--traceback", action="store_true", help="print the traceback of each finding")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    rows, findings = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seed in make_seeds(tmp / "seeds"):
            original = seed.target(seed.path).read_bytes()
            cases = [mutate(original, rng_ops(rng, int(rng.integers(1, 5)))) for _ in range(args.mutants)]
            if seed.name == "frames-json":
                cases += [t.encode() for t in json_mutants(original.decode())]
            kinds: Counter = Counter()
            sub_runs = 0
            for i, data in enumerate(cases):
                root = place(seed, tmp / "mutant", data)
                finding = run_mutant(seed, root)
                if finding is None and args.subprocess_every and i % args.subprocess_every == 0 and seed.name not in ("weights", "vsae"):
                    sub_runs += 1
                    finding = _subprocess(seed.name, root, tmp / "out")
                if finding is not None:
                    kinds[finding.split(":")[0]] += 1
                    findings.append((seed.name, finding))
                    keep = Path("fuzz-findings") / f"{seed.name}-{i}{seed.target(seed.path).suffix}"
                    keep.parent.mkdir(exist_ok=True)
                    keep.write_bytes(data)
                    print(f"{seed.name} #{i}: {finding} (kept as {keep})", flush=True)
                    if args.traceback:
                        try:
                            with time_limit(TIME_LIMIT):
                                seed.consume(root)
                        except Exception:  # noqa: BLE001
                            traceback.print_exc()
            rows.append((seed.name, len(cases), sub_runs, sum(kinds.values())))
            print(f"{seed.name}: {len(cases)} mutants ({sub_runs} also in a subprocess), {sum(kinds.values())} findings", flush=True)
    lines = ["| reader | mutants | also through the CLI in a subprocess | findings |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {n} | {s} | {f} |" for name, n, s, f in rows]
    total = sum(r[1] for r in rows)
    lines.append(f"| **all** | {total} | {sum(r[2] for r in rows)} | {sum(r[3] for r in rows)} |")
    text = "\n".join(lines) + (
        f"\n\n`python -m benchmarks.fuzz --mutants {args.mutants} --seed {args.seed}` in {time.perf_counter() - started:.0f} s: "
        f"each mutant is 1–4 random truncations, bit flips, length fields set huge, zeroed runs, swapped chunks or inserted bytes "
        f"(plus field edits of the image-sequence sidecar); each CLI mutant goes through `kinema info` and `kinema convert` "
        f"(snapshots: `kinema snapshot expand`); time limit {TIME_LIMIT} s, subprocess memory ceiling {MEMORY_CEILING >> 30} GiB."
    )
    print(text)
    if args.write:
        write_block("fuzz", text)
    if findings:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
