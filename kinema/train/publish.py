"""Ship a trained weight file: ``python -m kinema.train.publish RUN.safetensors DEST --metrics M.json --row LABEL``.

Copies the checkpoint to ``DEST`` (e.g. ``kinema/weights/interp.safetensors``) with the
benchmark scores of one table row (from ``python -m benchmarks.vfi --json M.json``, or
``benchmarks.gif2video --json`` for GIF models, rows ``flat-32``, ``dither-32``, …; any JSON
of the same shape for the dither classifier) added
to its metadata, so the file says how good it is. The tensors, and so their sha256, are
unchanged; the config is written out in full (fields added since training, such as the
confidence gate, with the values the engine will use).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from safetensors import safe_open

from kinema.models.checkpoint import load_checkpoint, save_checkpoint
from kinema.weights import SHIPPED

#: The configs of the models that are published this way, by architecture.
CONFIGS = {entry.model.arch: entry.model.config_class for entry in SHIPPED}


def publish(source: Path, dest: Path, metrics: dict | None = None) -> Path:
    with safe_open(str(source), framework="pt") as handle:
        arch = (handle.metadata() or {}).get("kinema.arch", "no kinema metadata")
    if arch not in CONFIGS:
        raise ValueError(f"{source}: cannot publish a {arch!r} file")
    tensors, config, meta = load_checkpoint(source, arch=arch)
    config = CONFIGS[arch].from_dict(config).as_dict()  # spelled out in full, new fields included
    if metrics is not None:
        meta = {**meta, "metrics": metrics}
    return save_checkpoint(dest, tensors, arch=arch, config=config, meta=meta)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--metrics", type=Path, default=None, help="JSON written by benchmarks.vfi --json")
    parser.add_argument("--row", default="**learned**", help="the table row whose scores to record")
    args = parser.parse_args(argv)
    metrics = None
    if args.metrics is not None:
        table = json.loads(args.metrics.read_text())
        metrics = {"benchmark": table.get("benchmark", "benchmarks.vfi"), "machine": table["machine"], **table["rows"][args.row]}
    print(publish(args.source, args.dest, metrics))


if __name__ == "__main__":
    main()
