"""GIF restoration on clips no GIF model trained on (``HELD_OUT_CLIPS``), one run.

GIFs are made from the held-out clips at a GIF-like size (longer side 320 px) the way
encoders make them: a median-cut palette per frame, nearest colour or Floyd–Steinberg
dithering. Rows, PSNR/SSIM on 8-bit RGB against the source frames:

* the GIF itself; Gaussian smoothing σ = 0.5 and 1.0 (the paper's baselines);
* kinema: the dither classifier routes each GIF (a clip at one setting) to a model, then
  CCDNet restores every frame; the oracle row gives the model for the true kind.

Also: classifier accuracy per frame and per GIF, held-out stills included (DAVIS and the
first 100 UCF101 inputs, never trained on); restoration throughput at 256×256; and the
paper's temporal table (Table 2): keep every k-th frame (sampling 1/k), then score every
source frame against the GIF held on screen vs kinema (restore, then interpolate with the
default learned engine).

    python -m benchmarks.gif2video [--frames 24] [--write]
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.report import write_block
from kinema.engines.gif2video import GifRestorer
from kinema.engines.learned import LearnedEngine
from kinema.io.pixels import from_hwc
from kinema.models.checkpoint import tensor_digest
from kinema.models.gif2video import CCDNet, CCDNetConfig, GifKind
from kinema.ops.blur import gaussian_blur
from kinema.ops.color import quantize_gif
from kinema.ops.metrics import psnr, ssim
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.gif2video import load_sources

LEVELS = (32, 64, 128, 256)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return from_hwc(rgb)[0]


def make_gif(frames: list[np.ndarray], colors: int, dither: bool) -> list[tuple[torch.Tensor, np.ndarray]]:
    out = []
    for rgb in frames:
        indices, palette = quantize_gif(rgb, colors, dither=dither)
        out.append((to_tensor(palette[indices]), palette))
    return out


def gaussian(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """The "Gaussian smoothing" baseline: one ``(3, H, W)`` frame blurred by σ pixels."""
    return gaussian_blur(image[None], sigma)[0]


def scores(pred: list[torch.Tensor], truth: list[torch.Tensor], *, with_ssim: bool = True) -> tuple[float, float]:
    """Mean per-frame PSNR and SSIM (frames of different clips differ in size; SSIM is
    NaN without ``with_ssim``)."""
    pairs = [(p.clamp(0, 1)[None], t[None]) for p, t in zip(pred, truth)]
    return (
        float(np.mean([float(psnr(p, t)[0]) for p, t in pairs])),
        float(np.mean([float(ssim(p, t)[0]) for p, t in pairs])) if with_ssim else float("nan"),
    )


def fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} / {pair[1]:.3f}"


def spatial(clips, restorer: GifRestorer) -> tuple[list[str], dict]:
    rows, accuracy = {}, {"frames": [0, 0], "gifs": [0, 0]}
    for dither in (False, True):
        for colors in LEVELS:
            cells: dict[str, list] = {k: [[], []] for k in ("gif", "g05", "g10", "ours", "oracle", "free")}
            worst = float("inf")  # the worst clip's gain over its GIF
            for frames in clips:
                gif = make_gif(frames, colors, dither)
                truth = [to_tensor(f) for f in frames]
                images = [g for g, _ in gif]
                probs = [restorer.dither_probability([g]) for g in images]
                accuracy["frames"][0] += sum((p > 0.5) == dither for p in probs)
                accuracy["frames"][1] += len(probs)
                routed = sum(probs) / len(probs) > 0.5
                accuracy["gifs"][0] += routed == dither
                accuracy["gifs"][1] += 1
                found = max(len(p) for _, p in gif)
                model, oracle = restorer.pick(routed, found), restorer.pick(dither, found)
                # As gif2video restores a GIF of the kind called (two-way here: error diffusion or none).
                as_called = lambda dithered: restorer.plan([], found, kind=GifKind.DIFFUSION if dithered else GifKind.NONE)  # noqa: E731
                outputs = {
                    "gif": images,
                    "g05": [gaussian(g, 0.5) for g in images],
                    "g10": [gaussian(g, 1.0) for g in images],
                    "ours": [restorer.restore_planned(g, as_called(routed)) for g in images],
                    "oracle": [restorer.restore_planned(g, as_called(dither)) for g in images] if oracle is not model else None,
                    # No consistency step, the network's output as it is.
                    "free": [restorer.restore(g, model, p, consistent=False) for g, p in gif],
                }
                outputs["oracle"] = outputs["oracle"] or outputs["ours"]
                worst = min(worst, scores(outputs["ours"], truth)[0] - scores(images, truth)[0])
                for key, pred in outputs.items():
                    cells[key][0].append(pred)
                    cells[key][1].append(truth)
            rows[(dither, colors)] = {
                k: scores([x for clip in v[0] for x in clip], [x for clip in v[1] for x in clip]) for k, v in cells.items()
            }
            rows[(dither, colors)]["worst"] = worst
    return rows, accuracy


def still_accuracy(data: Path, restorer: GifRestorer, count: int = 100) -> tuple[int, int]:
    """Per-image classifier accuracy on held-out stills (DAVIS, first UCF101 inputs), all levels."""
    from PIL import Image

    paths = sorted((data / "davis").glob("*/im1.png")) + sorted((data / "ucf101").glob("*/im1.png"))[:count]
    right = total = 0
    for i, path in enumerate(paths):
        im = Image.open(path).convert("RGB")
        im.thumbnail((320, 320))
        rgb = np.asarray(im)
        colors = LEVELS[i % len(LEVELS)]
        for dither in (False, True):
            indices, palette = quantize_gif(rgb, colors, dither=dither)
            p = restorer.dither_probability([to_tensor(palette[indices])])
            right += (p > 0.5) == dither
            total += 1
    return right, total


def throughput(restorer: GifRestorer, real: np.ndarray, repeats: int = 20, rounds: int = 5) -> dict[str, float]:
    """Frames/s of the planned path as gif2video runs it (model, that kind's consistency
    step and strength) at 256×256, on a crop of a real frame ``real`` and on white noise
    (the step's worst case: most restored pixels leave their cells), at 32 and 256 colours.
    Each figure is the median of ``rounds`` runs of ``repeats`` frames: this machine's
    timings vary by ±15 % from run to run."""
    noise = (np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8)
    crop = np.ascontiguousarray(real[:256, :256])
    if crop.shape[:2] != (256, 256):
        raise ValueError("the real frame must be at least 256×256")

    def rate(run) -> float:
        run()  # warm up
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return repeats / float(np.median(times))

    out = {}
    for colors in (32, 256):
        for what, rgb in (("a real frame", crop), ("white noise", noise)):
            for dither in (False, True):
                if colors == 256 and what == "white noise":
                    continue  # projecting noise into 256 tiny cells: seconds a frame, not a use
                indices, palette = quantize_gif(rgb, colors, dither=dither)
                image = to_tensor(palette[indices])
                plan = restorer.plan([], colors, kind=GifKind.DIFFUSION if dither else GifKind.NONE)
                name = f"{colors} colours, {'dithered' if dither else 'not dithered'}, {what}"
                out[name] = rate(lambda: [restorer.restore_planned(image, plan) for _ in range(repeats)])
        # --temporal 1 on the real frame: a stream of shifted copies, each restored once and
        # fused with its two neighbours (two flows, two warps), then the step and the strength.
        indices, palette = quantize_gif(crop, colors, dither=False)
        stream = [torch.roll(to_tensor(palette[indices]), 2 * k, dims=-1) for k in range(repeats)]
        plan = restorer.plan([], colors, kind=GifKind.NONE)
        out[f"{colors} colours, not dithered, a real frame, --temporal 1"] = rate(
            lambda: [None for _ in restorer.restore_frames(stream, plan, temporal=1)]
        )
    return out


def temporal(clips, restorer: GifRestorer, engine: LearnedEngine, rates=(1, 2, 4, 8)) -> dict[int, tuple]:
    """Paper Table 2 on non-dithered 32-colour GIFs: held GIF frames vs restored + interpolated."""
    out = {}
    for k in rates:
        gif_pred, ours_pred, truth = [], [], []
        for frames in clips:
            span = (len(frames) - 1) // 8 * 8 + 1  # the same source frames for every rate
            kept = make_gif(frames[:span:k], 32, False)
            plan = restorer.plan([], max(len(p) for _, p in kept), kind=GifKind.NONE)
            restored = [restorer.restore_planned(g, plan) for g, _ in kept]
            for i in range(span):
                j, offset = divmod(i, k)
                truth.append(to_tensor(frames[i]))
                gif_pred.append(kept[j][0])
                if offset == 0:
                    ours_pred.append(restored[j])
                else:
                    with torch.inference_mode():
                        mid = engine.interpolate(restored[j][None], restored[j + 1][None], [offset / k])[0][0]
                    ours_pred.append(mid)
        out[k] = (scores(gif_pred, truth), scores(ours_pred, truth))
    return out


def compare(clips, paths: list[Path]) -> list[str]:
    """One row per weight file, scored at its own kind and palette size (ablations)."""
    lines = ["", "| weights (ablation) | GIF | restored | gain |", "| --- | --- | --- | --- |"]
    loaded = [(path, *CCDNet.load(path)) for path in paths]
    # Weights by digest, so a row names its starting weights even after the file it
    # started from was replaced (shipped weights are).
    known = {tensor_digest(m.state_dict()): p.as_posix() for p, m, _ in loaded}
    for path, model, meta in loaded:
        restorer = GifRestorer([model], None)
        gifs, outs, truth = [], [], []
        for frames in clips:
            for (g, p), f in zip(make_gif(frames, model.config.colors, model.config.dithered), frames):
                gifs.append(g)
                outs.append(restorer.restore(g, model, p))
                truth.append(to_tensor(f))
        base, ours = scores(gifs, truth), scores(outs, truth)
        lines.append(f"| `{path.as_posix()}` ({recipe(model, meta, known)}) | {fmt(base)} | {fmt(ours)} | {ours[0] - base[0]:+.2f} dB |")
    return lines


def recipe(model: CCDNet, meta: dict, known: dict[str, str] | None = None) -> str:
    """What an ablation row's weights are, from their own metadata; ``known`` maps tensor
    digests to names for the initial weights."""
    train = meta.get("train") or {}
    words = shlex.split(meta.get("command", ""))  # the command names the initial weights in full
    init = words[words.index("--init") + 1] if "--init" in words[:-1] else None
    source = f" from `{init}`" if init else ""
    digest = meta.get("init_sha256")
    if digest in (known or {}):
        source = f" from `{known[digest]}`"
    elif digest and init:
        source += f" (tensors {digest[:12]})"  # the path may hold other weights by now
    elif init and init.startswith("kinema/weights/"):
        # Recorded before runs kept the digest; shipped files have been replaced since.
        source = f" from the `{init}` shipped then"
    parts = [f"{meta.get('steps', '?')} steps{source}"]
    if model.config.widths != CCDNetConfig().widths:
        parts.append(f"widths {'/'.join(map(str, model.config.widths))}")
    if train.get("rmse"):
        parts.append("RMSE colour term")
    if train.get("adversarial"):
        parts.append(f"λ_adv {train['adversarial']}")
    if meta.get("photo_sides"):
        parts.append(f"photos also at {'/'.join(map(str, meta['photo_sides']))} px")
    return "; ".join(parts)


def sheet(frames: list[np.ndarray], restorer: GifRestorer, path: Path, size: int = 160) -> Path:
    """A picture to look at: a crop of one held-out frame as source, 32-colour GIF and
    restored, without and with dithering (left to right), magnified 2×."""
    from PIL import Image

    rgb = frames[len(frames) // 2]
    h, w = rgb.shape[:2]
    y, x = (h - min(size, h)) // 2, (w - min(size, w)) // 2
    tiles = [rgb]
    for dither in (False, True):
        (gif, _), = make_gif([rgb], 32, dither)
        # As gif2video restores it, strength included.
        out = restorer.restore_planned(gif, restorer.plan([], 32, kind=GifKind.DIFFUSION if dither else GifKind.NONE)).clamp(0, 1)
        tiles += [(t.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for t in (gif, out)]
    row = np.concatenate([t[y : y + size, x : x + size] for t in tiles], axis=1)
    Image.fromarray(row).resize((row.shape[1] * 2, row.shape[0] * 2), Image.NEAREST).save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--frames", type=int, default=17, help="first N frames of each held-out clip")
    parser.add_argument("--models", type=Path, default=None, help="folder of GIF weights (default: shipped)")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    parser.add_argument("--sheet", type=Path, default=None, help="also write a before/after picture (PNG)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON (for kinema.train.publish)")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="extra CCDNet weight files to score (ablations)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_flush_denormal(True)  # as the CLI does (see kinema.cli.main)
    restorer = GifRestorer.from_folder(args.models)
    clips = [load_sources(args.data, (name,))[: args.frames] for name in HELD_OUT_CLIPS]
    started = time.perf_counter()
    rows, accuracy = spatial(clips, restorer)
    still = still_accuracy(args.data, restorer)
    real = load_sources(args.data, (HELD_OUT_CLIPS[-1],), max_side=640)[0]
    speed = throughput(restorer, real)
    table2 = temporal(clips, restorer, LearnedEngine.from_file())
    lines = [
        f"Held-out clips: {', '.join(Path(n).name for n in HELD_OUT_CLIPS)} — first {args.frames} frames each, longer side 320 px "
        f"({sum(len(c) for c in clips)} frames). PSNR (dB) / SSIM against the source frames.",
        "",
        "| GIF | GIF itself | Gaussian σ=0.5 | Gaussian σ=1.0 | **kinema** (classifier-routed) | kinema, true kind | kinema without the consistency step (and at full strength) | gain over GIF | worst clip's gain |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (dither, colors), r in rows.items():
        kind = "dithered" if dither else "not dithered"
        gain = r["ours"][0] - r["gif"][0]
        lines.append(
            f"| {colors} colours, {kind} | {fmt(r['gif'])} | {fmt(r['g05'])} | {fmt(r['g10'])} | **{fmt(r['ours'])}** | {fmt(r['oracle'])} | "
            f"{fmt(r['free']) if not dither else '–'} | {gain:+.2f} dB | {r['worst']:+.2f} dB |"
        )
    fr, gi = accuracy["frames"], accuracy["gifs"]
    lines += [
        "",
        f"Dither classifier: {fr[0]}/{fr[1]} held-out clip frames ({100 * fr[0] / fr[1]:.1f} %), {gi[0]}/{gi[1]} GIFs routed right, "
        f"{still[0]}/{still[1]} held-out stills ({100 * still[0] / still[1]:.1f} %; DAVIS + 100 UCF101 inputs, all four palette sizes).",
        "Restoration throughput at 256×256 (2 CPU cores; median of 5 runs): "
        + ", ".join(f"{k} {v:.1f} frames/s" for k, v in speed.items())
        + ".",
        "",
        "Temporal restoration (paper Table 2; 32 colours, not dithered; sampling 1/k keeps every k-th frame, "
        "every source frame scored; in-betweens by the default learned engine):",
        "",
        "| sampling | GIF (held frames) | **kinema** (restored + interpolated) |",
        "| --- | --- | --- |",
    ]
    for k, (gif_s, ours_s) in table2.items():
        lines.append(f"| 1/{k} | {fmt(gif_s)} | **{fmt(ours_s)}** |")
    if args.compare:
        lines += compare(clips, args.compare)
    lines.append("")
    lines.append(f"Measured in {time.perf_counter() - started:.0f} s by `python -m benchmarks.gif2video --write`.")
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_block("gif2video", text)
    if args.sheet is not None:
        sheet(clips[0], restorer, args.sheet)
    if args.json is not None:
        machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
        table = {
            f"{'dither' if d else 'flat'}-{c}": {"gif_psnr_ssim": r["gif"], "restored_psnr_ssim": r["ours"], "clips": list(HELD_OUT_CLIPS)}
            for (d, c), r in rows.items()
        }
        args.json.write_text(json.dumps({"benchmark": "benchmarks.gif2video", "machine": machine, "rows": table}, indent=2))


if __name__ == "__main__":
    main()
