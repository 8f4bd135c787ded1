"""Where the learned interpolator's error comes from, and what the cheap fixes buy.

The RIFE anchor of the learned-interpolator issue is 35.18 dB on the first 50 UCF101
triplets; ``learned best`` scores about 35.06. This probe measures, in one run:

* **oracle flows**: both inputs warped by DIS flows computed *from the true middle frame*
  and averaged — the ceiling of "better flow" for a warp-and-blend interpolator;
* **flip ensembles**: the learned engine run on the frames as given and flipped
  (horizontally, and both ways), the flows mapped back and the *outputs* averaged — and,
  as a control, the same members with their *flows* averaged before one composition;
* **working size**: the same network and guide run at another resolution — small inputs
  upscaled to a longer side of at least 384 px, and no 512-px cap for larger ones — with
  the result composed at the input size;
* **weights**: any other weight files or training states (``--weights``), scored by the
  ``best`` and default engines, and their average with the shipped weights (``--soup``:
  all were fine-tuned from them, so averaging the parameters is meaningful).

Besides the benchmark sets it scores a tuning set that no benchmark shares: 80 crops
(256², frames at ≤ 320 px, strides 1–2) of the held-out clip and five training clips, so
a choice made here can be checked away from the benchmark.

    python -m benchmarks.interp_headroom [--weights runs/X/state.safetensors ...] [--write]
    python -m benchmarks.interp_headroom --motion [--write]   # the motion-to-t options beside the oracle
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.report import write_block
from benchmarks.triplets import load_triplets
from benchmarks.vfi import PARTS
from kinema import weights as shipped
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.learned import LearnedConfig, LearnedEngine
from kinema.ops.bilateral import BilateralConfig
from kinema.models.checkpoint import load_checkpoint
from kinema.models.interp import InterpNet
from kinema.models.interp.model import compose
from kinema.ops.flow import dis_flow, resize_flow
from kinema.ops.metrics import psnr
from kinema.ops.resize import fit_size, resize
from kinema.ops.warp import Padding, backward_warp
from kinema.train.clips import HELD_OUT, RealTriplets, default_sources
from kinema.train.data import DATA_ROOT
from kinema.train.interp import STATE_ARCH

Triplets = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (a, truth, b), each (1, 3, H, W)
Method = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


#: The row the motion table's "gap closed" columns start from: the learned default as it
#: was when the motion-to-t work began.
GAP_BASE = "learned, earlier default (guided by classical balanced)"


def tuning_set(data: Path, count: int = 80) -> Triplets:
    real = RealTriplets([data / HELD_OUT, *default_sources(data)[:5]], strides=(1, 2), crop=256, max_side=320)
    g = torch.Generator().manual_seed(7)
    return [(a[None], m[None], b[None]) for a, m, b, _ in (real.sample(g) for _ in range(count))]


def oracle(a: torch.Tensor, truth: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    warped = [backward_warp(x, dis_flow(truth, x, finest_scale=0), padding=Padding.BORDER) for x in (a, b)]
    return (0.5 * (warped[0] + warped[1])).clamp(0, 1)


def _flip(x: torch.Tensor, h: bool, v: bool) -> torch.Tensor:
    return x.flip([d for d, on in ((-1, h), (-2, v)) if on]) if h or v else x


def ensemble(engine: LearnedEngine, members: list[tuple[bool, bool]], *, average_flows: bool) -> Method:
    """The engine's midpoint from guides computed on flipped frames (flows mapped back)."""

    def run(full_a: torch.Tensor, full_b: torch.Tensor) -> torch.Tensor:
        wh, ww = fit_size(*full_a.shape[-2:], engine.config.work_max_side)
        a, b = resize(full_a, wh, ww), resize(full_b, wh, ww)
        t = torch.full((1,), 0.5)
        guides = []
        for h, v in members:
            guide = _flip(engine.guide.motion(_flip(a, h, v), _flip(b, h, v), [0.5])[0], h, v).clone()
            guide[:, 0::2] *= -1 if h else 1  # a mirrored flow points the other way
            guide[:, 1::2] *= -1 if v else 1
            guides.append(resize_flow(guide, wh, ww))
        if average_flows:
            guides = [sum(guides) / len(guides)]
        outputs = [compose(full_a, full_b, engine.model.predict(a, b, t, g)[0]) for g in guides]
        return (sum(outputs) / len(outputs)).clamp(0, 1)

    return run


def upscaled(engine: LearnedEngine, min_side: int) -> Method:
    """The engine's midpoint with inputs whose longer side is under ``min_side`` upscaled to
    it first (the engine itself only ever scales down); composed at the input size."""

    def run(full_a: torch.Tensor, full_b: torch.Tensor) -> torch.Tensor:
        h, w = full_a.shape[-2:]
        scale = max(1.0, min_side / max(h, w))
        a, b = (resize(x, round(h * scale), round(w * scale)) for x in (full_a, full_b))
        return compose(full_a, full_b, engine.predict(a, b, [0.5])[0]).clamp(0, 1)

    return run


def soup(nets: list[InterpNet]) -> InterpNet:
    """One network whose parameters are the mean of ``nets``' (same architecture)."""
    states = [net.state_dict() for net in nets]
    net = copy.deepcopy(nets[0])
    net.load_state_dict({k: sum(sd[k] for sd in states) / len(states) for k in states[0]})
    return net.eval()


def load_net(path: Path) -> InterpNet:
    """A weight file, or the model inside a training state (``state.safetensors``)."""
    if path.name != "state.safetensors":
        return InterpNet.load(path)[0]
    net, _ = InterpNet.load(shipped.INTERP)  # same config as the runs fine-tuned from it
    tensors, _, _ = load_checkpoint(path, arch=STATE_ARCH)  # the trainer's own state format, digest checked
    net.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
    return net.eval()


def mean_psnr(method: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], triplets: Triplets) -> float:
    """Mean PSNR of ``method(a, truth, b)`` (only the oracle looks at ``truth``)."""
    with torch.inference_mode():
        return sum(float(psnr(method(a, truth, b), truth)[0]) for a, truth, b in triplets) / len(triplets)


def blind(method: Method) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    return lambda a, truth, b: method(a, b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--weights", type=Path, nargs="*", default=[], help="more weight files or training states to score")
    parser.add_argument("--soup", action="store_true", help="also score the mean of the shipped and --weights parameters")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--motion", action="store_true", help="score the motion-to-t options instead (block motion-to-t)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sets = {
        "tuning (80 crops)": tuning_set(args.data),
        "middlebury": [(t.a, t.truth, t.b) for t in load_triplets(args.data, "middlebury")],
        "ucf101 first 50": [(t.a, t.truth, t.b) for t in load_triplets(args.data, "ucf101", 50)],
    }
    # The ensemble and working-size probes start from what `--quality best` was when they
    # were measured: the default weights guided by DIS to the full working resolution.
    earlier_best = LearnedConfig(guide=ClassicalConfig.balanced().replace(finest_scale=0))
    best = LearnedEngine.from_file(None, earlier_best)
    rows: list[tuple[str, Method]] = [
        ("learned, earlier best (shipped weights)", best.midpoint),
        ("  + horizontal-flip ensemble (2 members, outputs averaged)", ensemble(best, [(False, False), (True, False)], average_flows=False)),
        ("  + the same 2 members, flows averaged (control)", ensemble(best, [(False, False), (True, False)], average_flows=True)),
        ("  + 4-member flip ensemble (outputs averaged)", ensemble(best, [(False, False), (True, False), (False, True), (True, True)], average_flows=False)),
        ("  at a working size of at least 384 px (small inputs upscaled)", upscaled(best, 384)),
        ("  at full resolution (no 512-px cap)", LearnedEngine(best.model, dataclasses.replace(best.config, work_max_side=None)).midpoint),
    ]
    if args.motion:
        balanced = ClassicalConfig.balanced()
        bilateral = balanced.replace(bilateral=BilateralConfig())
        rows = [
            ("classical balanced", ClassicalEngine(balanced).midpoint),
            ("  + bilateral motion at t", ClassicalEngine(bilateral).midpoint),
            ("learned, earlier default (guided by classical balanced)", LearnedEngine(best.model, LearnedConfig(guide=balanced)).midpoint),
            ("learned (default)", LearnedEngine(best.model, LearnedConfig()).midpoint),
            ("  guided by bilateral motion at t", LearnedEngine(best.model, LearnedConfig(guide=LearnedConfig().guide.replace(bilateral=BilateralConfig()))).midpoint),
            ("  + 2 flips averaged", LearnedEngine(best.model, LearnedConfig(ensemble=2)).midpoint),
            ("learned best (adaptive warping, guide at ≤ 1024 px, 4 flips)", LearnedEngine.from_file(None, LearnedConfig.best()).midpoint),
        ]
        for label, path, _ in PARTS:
            rows.append((f"learned {label}", LearnedEngine(load_net(path), LearnedConfig()).midpoint))
    nets = [load_net(path) for path in args.weights]
    for path, net in zip(args.weights, nets):
        rows.append((f"`{path}`, best", LearnedEngine(net, earlier_best).midpoint))
        rows.append((f"`{path}`, default", LearnedEngine(net, LearnedConfig.balanced()).midpoint))
    if args.soup and nets:
        mean_net = soup([best.model, *nets])
        rows.append((f"parameter average of the shipped weights and these {len(nets)}, best", LearnedEngine(mean_net, earlier_best).midpoint))
    # With --motion: the share of the gap between GAP_BASE and the oracle
    # that each row closes, per set (the measure of each part).
    gap = " | " + " | ".join(f"{name}: gap closed" for name in sets) if args.motion else ""
    lines = ["| method | " + " | ".join(sets) + gap + " |", "| --- |" + " --- |" * (len(sets) * (2 if args.motion else 1))]
    print("\n".join(lines), flush=True)
    scored = [("oracle: DIS flows from the true middle frame", oracle), *((label, blind(method)) for label, method in rows)]
    results: dict[str, list[float]] = {}
    for label, method in scored:
        scores = results[label] = [mean_psnr(method, trs) for trs in sets.values()]
        cells = [f"{s:.2f}" for s in scores]
        if args.motion:
            base, top = results.get(GAP_BASE), results[scored[0][0]]
            shown = base is not None and label not in (GAP_BASE, scored[0][0])
            cells += [f"{(s - b) / (o - b):+.1%}" for s, b, o in zip(scores, base, top)] if shown else ["–"] * len(sets)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n\nMeasured by `python -m benchmarks.interp_headroom` (mean PSNR in dB, 8-bit RGB)."
    if args.motion:
        text += f" Gap closed: the share of the distance from `{GAP_BASE}` to the oracle that a row makes up (negative: it loses)."
    if args.write:
        write_block("motion-to-t" if args.motion else "interp-headroom", text)


if __name__ == "__main__":
    main()
