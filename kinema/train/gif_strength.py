"""Fit how far gif2video goes from a GIF towards its restoration (the *strength*).

The constants :data:`kinema.engines.gif2video.STRENGTH` and ``FLAT_RULE`` come from this
script, run on a source no GIF model, GIF benchmark or earlier tuning read: three-frame
clips of UCF101 (``im1, gt, im3`` of each triplet). For each clip, encoder and palette
size it restores the GIF once at strength 1 (as gif2video does, ``--temporal 1``) and
keeps, per clip-GIF, ``E_g = ‖G − T‖²``, ``C = ⟨G − T, R − G⟩`` and ``D = ‖R − G‖²``
(means over pixels), so that the error at any strength ``s`` is ``E_g + 2s·C + s²·D``
without restoring again, and the flat model's signs (:func:`cell_signs`).

* ``--kinds``: every encoder, the kind the classifier calls; the best fixed share per kind.
* ``--means``: the dithered encoders with their kind named (at its strength), and the σ of
  :data:`kinema.engines.gif2video.LOCAL_MEANS` per kind that maximises the same score on
  the first clip set, scored on the second (the local means taken from the GIF).
* the flat rule (default): the no-dither encoders with the flat model, and the ``(a, b, c)``
  of :func:`flat_strength` that maximise the mean gain in dB plus twice the mean loss
  (losing clips count three times), by a pattern search; reported in-sample and on a
  two-way split by clips (fit on one set, score the other).

    python -m kinema.train.gif_strength --out runs/gif-strength [--kinds | --means] [--threads 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from kinema.engines.gif2video import GifRestorer, cell_signs, count_colors, flat_strength
from kinema.io.pixels import from_hwc, to_hwc
from kinema.models.gif2video import GifKind
from kinema.train.data import DATA_ROOT
from kinema.train.gif_encoders import encoders

LEVELS = (32, 64, 128, 256)


def clip_sets(data: Path) -> tuple[list[str], list[str]]:
    """Two disjoint sets of UCF101 triplet ids, spread over the set (10 and 12 clips)."""
    ids = sorted((p.name for p in (data / "ucf101").iterdir() if p.name.isdigit()), key=int)
    first = ids[::38][:10]
    second = [i for i in ids[len(ids) // 24 :: len(ids) // 12][:12] if i not in first]
    return first, second


def load_clip(data: Path, name: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(data / "ucf101" / name / f).convert("RGB")) for f in ("im1.png", "gt.png", "im3.png")]


def measure(restorer: GifRestorer, frames: list[np.ndarray], gifs: list[np.ndarray], kind: GifKind | None) -> dict | None:
    """One clip-GIF: E_g, C, D at strength 1 and (flat kind) the mean signs; None if kept."""
    images = [from_hwc(g)[0] for g in gifs]
    colors = max(count_colors(i) for i in images)
    plan = restorer.plan(images, colors, kind=kind, strength=1.0)
    if plan.model is None:
        return None
    restored = list(restorer.restore_frames(images, plan, temporal=1))
    truth = np.stack(frames).astype(np.float64)
    gif = np.stack(gifs).astype(np.float64)
    ours = np.stack([to_hwc(r.clamp(0, 1)) for r in restored]).astype(np.float64)
    error, move = gif - truth, ours - gif
    row = {"kind": plan.kind.name, "Eg": float((error**2).mean()), "C": float((error * move).mean()), "D": float((move**2).mean())}
    if plan.kind is GifKind.NONE:
        signs = [cell_signs(i, restorer.restore(i, plan.model, consistent=False)) for i in images]
        row["signs"] = [float(x) for x in np.mean(signs, axis=0)]
    return row


SIGMAS = (0.5, 0.7, 1.0, 1.4)


def measure_means(restorer: GifRestorer, frames: list[np.ndarray], gifs: list[np.ndarray], kind: GifKind) -> dict:
    """One dithered clip-GIF, its kind named: dB over the GIF without local means and with
    each σ of :data:`SIGMAS` (the rest of the path as gif2video runs it)."""
    images = [from_hwc(g)[0] for g in gifs]
    plan = restorer.plan(images, max(count_colors(i) for i in images), kind=kind)
    truth = np.stack(frames).astype(np.float64)

    def db(means: float | None) -> float:
        out = restorer.restore_frames(images, dataclasses.replace(plan, means=means), temporal=1)
        ours = np.stack([to_hwc(r.clamp(0, 1)) for r in out]).astype(np.float64)
        return 10 * math.log10(255**2 / ((ours - truth) ** 2).mean())

    gif = 10 * math.log10(255**2 / ((np.stack(gifs).astype(np.float64) - truth) ** 2).mean())
    return {"kind": kind.name, "none": db(None) - gif, **{str(s): db(s) - gif for s in SIGMAS}}


def objective(gains) -> float:
    """What the fits maximise: the mean gain in dB plus twice the mean loss (a clip-GIF
    worse than its GIF counts three times)."""
    gains = np.asarray(gains, dtype=float)
    return float(gains.mean() + 2 * np.minimum(gains, 0).mean())


def describe(gains) -> str:
    gains = np.asarray(gains, dtype=float)
    return f"{gains.mean():+.2f} dB, {int((gains < 0).sum())} worse, worst {gains.min():+.2f}"


def means_summary(rows: list[dict], first: list[str]) -> list[str]:
    """Per kind: the σ with the best mean gain + 2·mean loss on the ``first`` clips, and
    without → with on those and on the others."""
    lines = []
    for kind in sorted({r["kind"] for r in rows}):
        fit_rows = [r for r in rows if r["kind"] == kind and r["clip"] in first]
        held = [r for r in rows if r["kind"] == kind and r["clip"] not in first]
        scores = {k: objective([r[k] for r in fit_rows]) for k in ["none", *map(str, SIGMAS)]}
        best = max(map(str, SIGMAS), key=scores.__getitem__)
        lines.append(f"{kind}: σ = {best} ({', '.join(f'{k}: {v:+.3f}' for k, v in scores.items())})")
        for name, group in (("chosen on", fit_rows), ("held out", held)):
            if group:
                lines.append(f"  {name} {len(group)} clip-GIFs: without {describe([r['none'] for r in group])} | with {describe([r[best] for r in group])}")
    return lines


def gain(row: dict, strength: float) -> float:
    """dB over the GIF at this strength."""
    return 10 * math.log10(row["Eg"] / (row["Eg"] + 2 * strength * row["C"] + strength**2 * row["D"]))


def rule(params, signs) -> float:
    """The strength :func:`flat_strength` gives these signs with ``params`` as its rule."""
    return flat_strength(np.asarray(signs), tuple(params))


def score(params, rows) -> float:
    return objective([gain(r, rule(params, r["signs"])) for r in rows])


def fit(rows, start=(0.0, -0.1, -0.1)) -> tuple[float, ...]:
    """Pattern search: try ± step on each parameter, keep what improves, halve the step."""
    best, value, step = list(start), score(start, rows), 0.2
    while step > 0.002:
        moved = False
        for k in range(3):
            for sign in (1, -1):
                trial = list(best)
                trial[k] += sign * step
                if (v := score(trial, rows)) > value:
                    best, value, moved = trial, v, True
        if not moved:
            step /= 2
    return tuple(round(p, 3) for p in best)


def summary(rows, params) -> str:
    def cell(strength_of):
        return describe([gain(r, strength_of(r)) for r in rows])

    return (
        f"{len(rows)} clip-GIFs | s = 1: {cell(lambda r: 1.0)} | s = 0.66: {cell(lambda r: 0.66)} | "
        f"per GIF: {cell(lambda r: rule(params, r['signs']))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kinds", action="store_true", help="best fixed share per kind, every encoder (first clip set)")
    parser.add_argument("--means", action="store_true", help="σ of the local means per dithered kind (fit on the first clip set)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of each set (smoke runs)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    args.out.mkdir(parents=True, exist_ok=True)
    restorer = GifRestorer.from_folder()
    first, second = (ids[: args.limit] for ids in clip_sets(args.data))
    if args.means:
        rows = []
        for name in first + second:
            frames = load_clip(args.data, name)
            for coder in (c for c in encoders() if c.kind is not GifKind.NONE):
                for level in LEVELS:
                    rows.append({"clip": name, "encoder": coder.name, "colors": level, **measure_means(restorer, frames, coder.encode(frames, level), coder.kind)})
            print(f"{name}: {len(rows)} clip-GIFs so far", flush=True)
        text = "\n".join(means_summary(rows, first))
        print(text)
        (args.out / "means.json").write_text(json.dumps(rows))
        (args.out / "means.txt").write_text(text + "\n")
        return
    coders = encoders() if args.kinds else [c for c in encoders() if c.kind is GifKind.NONE]
    rows = []
    for name in first + ([] if args.kinds else second):
        frames = load_clip(args.data, name)
        for coder in coders:
            for level in LEVELS:
                row = measure(restorer, frames, coder.encode(frames, level), None if args.kinds else GifKind.NONE)
                if row is not None:
                    rows.append({"clip": name, "encoder": coder.name, "colors": level, **row})
        print(f"{name}: {len(rows)} clip-GIFs so far", flush=True)
    lines = []
    if args.kinds:
        grid = np.round(np.arange(0.30, 1.201, 0.01), 2)
        for kind in sorted({r["kind"] for r in rows}):
            group = [r for r in rows if r["kind"] == kind]
            means = [np.mean([gain(r, s) for r in group]) for s in grid]
            lines.append(f"{kind}: {len(group)} clip-GIFs, best share {grid[int(np.argmax(means))]:.2f} ({max(means):+.2f} dB; at 1: {np.mean([gain(r, 1.0) for r in group]):+.2f})")
    else:
        params = fit(rows)
        lines.append(f"fit on all {len(first) + len(second)} clips: (a, b, c) = {params}")
        lines.append("  " + summary(rows, params))
        for train, test in ((second, first), (first, second)):
            held = fit([r for r in rows if r["clip"] in train])
            lines.append(f"fit on {len(train)} clips {held}, scored on the other {len(test)}:")
            lines.append("  " + summary([r for r in rows if r["clip"] in test], held))
    text = "\n".join(lines)
    print(text)
    (args.out / "rows.json").write_text(json.dumps(rows))
    (args.out / "summary.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
