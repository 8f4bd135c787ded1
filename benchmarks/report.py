"""Publish a freshly measured table: ``benchmarks/results/NAME.md`` and the doc that quotes it.

Every benchmark's ``--write`` calls :func:`write_block`. The whole output goes to
``benchmarks/results/NAME.md``; the page under ``docs/`` (or the README) that shows the
table has it between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``, and that block
is replaced too, so a model card always quotes the last measured run.
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def write_block(name: str, text: str, root: Path = ROOT) -> Path:
    """Write ``text`` to ``benchmarks/results/NAME.md`` and into the block of that name."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    holders = [p for p in pages(root) if p.is_file() and start in p.read_text() and end in p.read_text()]
    if not holders:
        raise SystemExit(f"no page under {root} has a {start} … {end} block")
    results = root / "benchmarks" / "results" / f"{name}.md"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(f"# Benchmark: {name}\n\nWritten {time.strftime('%Y-%m-%d')} by `python -m benchmarks` (see the page that quotes it: {', '.join(str(p.relative_to(root)) for p in holders)}).\n\n{text.strip()}\n")
    for page in holders:
        head, rest = page.read_text().split(start, 1)
        _, tail = rest.split(end, 1)
        page.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}")
    return results


def bench_arguments(parser, *, out: str, sections: tuple[str, ...] = ()) -> None:
    """The options every vsae benchmark takes: ``--data``, ``--out``, ``--threads``,
    ``--json``, ``--write`` and, with ``sections``, ``--skip NAME`` (repeatable)."""
    from kinema.train.data import DATA_ROOT

    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--threads", type=int, default=2)
    if sections:
        parser.add_argument("--skip", choices=list(sections), action="append", default=[], help="a section not to run")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", action="store_true")


def bench_start(args) -> None:
    """Threads as asked, denormals flushed (they slow CPU convolutions), ``--out`` made."""
    import torch

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    args.out.mkdir(parents=True, exist_ok=True)


def run_sections(module: str, sections: dict, args) -> dict:
    """Run each of ``sections`` (``{name: () -> (text, results)}``) not in ``args.skip``;
    each text gets the command that measures it alone, is printed and, with
    ``args.write``, written to its block ``vsae-NAME``. Returns the results by name."""
    results = {}
    for name, bench in sections.items():
        if name in args.skip:
            continue
        text, results[name] = bench()
        alone = " ".join(f"--skip {other}" for other in sections if other != name)
        text += f"\n\nMeasured by `python -m benchmarks.{module} {alone} --write` with {args.threads} threads."
        print(text)
        if args.write:
            write_block(f"vsae-{name}", text)
    return results
