"""Video-snapshot benchmark: restored frames, snapshot fidelity, frame intervals, JPEG, speed.

    python -m benchmarks.snapshot [--write] [--json bench_out/snapshot.json] [--compare W.safetensors ...]

On two groups of clips no snapshot training read — kinema's held-out clips and a new
source (X4K1000FPS scenes, :data:`kinema.train.snapshot.NEW_SOURCE_CLIPS`) — ``--windows``
windows per clip spread evenly over it, frames scaled to a longer side of ``--max-side``:

* per group, k = 5 and k = 9, network alone and refined, saved as PNG and as JPEG 90
  (k = 5 JPEG through the JPEG-robust weights, as ``kinema snapshot embed x.jpg`` does);

and on the held-out clips:

* restored-frame PSNR/SSIM per frame position and mean (paper: 39.35 dB / 0.980 at k = 5,
  34.59 / 0.949 at k = 9), beside the floor "every frame decoded as the middle one";
* the snapshot against the middle frame;
* the frame-interval study (stride 1, 3, 5; paper Table III);
* the snapshot saved as 8-bit PNG and as JPEG quality 90 (Pillow, 4:2:0), for the
  standard and the JPEG-robust model;
* embedding and expansion time at 256×256 and 1280×720 on this machine.

Scores are 8-bit RGB PSNR (peak 255) and SSIM per frame, averaged over frames.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.report import write_block
from kinema.models.snapshot import SnapshotNet
from kinema.ops.codec import jpeg_roundtrip, round_8bit
from kinema.ops.metrics import mean_finite, psnr, ssim
from kinema.pipelines.snapshot import EmbedConfig, embed_clip
from kinema.train.clips import load_frames
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.snapshot import NEW_SOURCE_CLIPS
from kinema.weights import FOLDER, snapshot_name


def windows(clip: list[torch.Tensor], frames: int, stride: int, count: int) -> list[torch.Tensor]:
    """``count`` windows ``(k, 3, H, W)`` spread evenly over ``clip`` (fewer if it is short)."""
    span = (frames - 1) * stride
    last = len(clip) - 1 - span
    if last < 0:
        return []
    starts = sorted({round(i * last / max(count - 1, 1)) for i in range(count)})
    return [torch.stack(clip[s : s + span + 1 : stride]).float() / 255 for s in starts]


@torch.no_grad()
def score(net: SnapshotNet, clips: list[list[torch.Tensor]], stride: int, count: int, jpeg: int | None = None, refine: int = 0) -> dict:
    """Per-position restored PSNR/SSIM, snapshot PSNR/SSIM and the middle-frame floor
    (``refine``: steps of per-clip snapshot optimization, through the JPEG if any)."""
    k = net.config.frames
    pos_p, pos_s = [[] for _ in range(k)], [[] for _ in range(k)]
    snap_p, snap_s, floor, low = [], [], [], []
    used = 0
    for clip in clips:
        for window in windows(clip, k, stride, count):
            used += 1
            snapshot = embed_clip(net, window, refine_steps=refine, jpeg_quality=jpeg)[None]
            if jpeg is not None:
                snapshot = jpeg_roundtrip(snapshot, jpeg)
            restored = round_8bit(net.expand(snapshot)[0])
            for i in range(k):
                pos_p[i].append(float(psnr(restored[i : i + 1], window[i : i + 1])[0]))
                pos_s[i].append(float(ssim(restored[i : i + 1], window[i : i + 1])[0]))
            middle = window[k // 2][None]
            snap_p.append(float(psnr(snapshot, middle)[0]))
            # The visible part of the difference: both at a quarter size (area averages),
            # where a pixel-level texture averages out and colour or contrast shifts remain.
            low.append(float(psnr(F.avg_pool2d(snapshot, 4), F.avg_pool2d(middle, 4))[0]))
            snap_s.append(float(ssim(snapshot, middle)[0]))
            floor += [float(psnr(middle, window[i : i + 1])[0]) for i in range(k) if i != k // 2]
    positions = [(mean_finite(p), sum(s) / len(s)) for p, s in zip(pos_p, pos_s)]
    return {
        "windows": used,
        "positions": positions,
        "mean": (sum(p for p, _ in positions) / k, sum(s for _, s in positions) / k),
        "snapshot": (mean_finite(snap_p), sum(snap_s) / len(snap_s)),
        "snapshot_quarter": mean_finite(low),
        "floor": mean_finite(floor),
    }


@torch.no_grad()
def timing(net: SnapshotNet, size: tuple[int, int], repeats: int = 3) -> tuple[float, float]:
    """Seconds to embed and to expand one snapshot of ``size`` (h, w) (best of ``repeats``)."""
    clip = torch.rand(1, net.config.frames, 3, *size)
    embed, expand = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        snapshot = round_8bit(net.embed(clip)[0])
        embed.append(time.perf_counter() - started)
        started = time.perf_counter()
        net.expand(snapshot)
        expand.append(time.perf_counter() - started)
    return min(embed), min(expand)


@torch.no_grad()
def sheet(net: SnapshotNet, clip: list[torch.Tensor], path: Path) -> Path:
    """Top row: the k source frames; bottom row: the snapshot (under the middle frame's
    column, left) and the k frames expanded from it."""
    from PIL import Image

    window = windows(clip, net.config.frames, 1, 1)[0]
    snapshot = round_8bit(net.embed(window[None])[0])
    restored = net.expand(snapshot)[0]
    blank = torch.ones_like(window[0])
    top = torch.cat([blank, *window], -1)
    bottom = torch.cat([snapshot[0], *restored], -1)
    image = torch.cat([top, bottom], -2)
    Image.fromarray((image.permute(1, 2, 0) * 255).round().byte().numpy()).save(path)
    return path


def fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} / {pair[1]:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--models", type=Path, default=FOLDER, help="folder of snapshot weights (default: shipped)")
    parser.add_argument("--windows", type=int, default=6, help="windows per held-out clip")
    parser.add_argument("--max-side", type=int, default=480)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes them")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON (for kinema.train.publish)")
    parser.add_argument("--refine", type=int, default=EmbedConfig.refine, help="refinement steps of the refined rows")
    parser.add_argument("--sheet", type=Path, default=None, help="also write a picture: source frames, snapshot, expanded frames")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="extra weight files to score at stride 1 (ablations)")
    parser.add_argument("--compare-jpeg", type=Path, nargs="*", default=[], help="extra weight files to score at stride 1 saved as JPEG 90")
    args = parser.parse_args(argv)
    torch.set_flush_denormal(True)  # as the CLI does (see kinema.cli.main)
    started = time.perf_counter()
    clips = [load_frames(args.data / name, args.max_side) for name in HELD_OUT_CLIPS]
    load = lambda name: SnapshotNet.load(args.models / f"{name}.safetensors")[0]  # noqa: E731
    nets = {name: load(name) for name in (snapshot_name(5), snapshot_name(9), snapshot_name(5, jpeg_robust=True))}
    count = args.windows
    refine = args.refine
    main_rows = {name: score(nets[name], clips, 1, count) for name in (snapshot_name(5), snapshot_name(9))}
    refined = {f"{name} + refine {refine}": score(nets[name], clips, 1, count, refine=refine) for name in (snapshot_name(5), snapshot_name(9))}
    strides = {s: main_rows[snapshot_name(5)] if s == 1 else score(nets[snapshot_name(5)], clips, s, count) for s in (1, 3, 5)}
    jpeg_rows = {
        ("standard", "PNG"): main_rows[snapshot_name(5)],
        ("standard", "JPEG 90"): score(nets[snapshot_name(5)], clips, 1, count, jpeg=90),
        ("JPEG-robust", "PNG"): score(nets[snapshot_name(5, jpeg_robust=True)], clips, 1, count),
        ("JPEG-robust", "JPEG 90"): score(nets[snapshot_name(5, jpeg_robust=True)], clips, 1, count, jpeg=90),
        (f"JPEG-robust + refine {refine}", "JPEG 90"): score(nets[snapshot_name(5, jpeg_robust=True)], clips, 1, count, jpeg=90, refine=refine),
    }
    new_clips = [load_frames(args.data / name, args.max_side) for name in NEW_SOURCE_CLIPS]
    groups = {"held-out clips": (clips, main_rows, refined), "new source (X4K GIFs)": (new_clips, None, None)}
    by_group = {}  # (group, model, file) -> (network alone, refined)
    for group, (members, plain, refined_rows) in groups.items():
        for name in (snapshot_name(5), snapshot_name(9)):
            net = nets[name]
            alone = plain[name] if plain else score(net, members, 1, count)
            better = refined_rows[f"{name} + refine {refine}"] if refined_rows else score(net, members, 1, count, refine=refine)
            by_group[(group, name, "PNG")] = (alone, better)
        for name in (snapshot_name(5, jpeg_robust=True), snapshot_name(9)):
            net = nets[name]
            if plain and name == snapshot_name(5, jpeg_robust=True):
                alone, better = jpeg_rows[("JPEG-robust", "JPEG 90")], jpeg_rows[(f"JPEG-robust + refine {refine}", "JPEG 90")]
            else:
                alone, better = score(net, members, 1, count, jpeg=90), score(net, members, 1, count, jpeg=90, refine=refine)
            by_group[(group, name, "JPEG 90")] = (alone, better)
    compared = {
        f"{path.name} · {group}{' · JPEG 90' if jpeg else ''}": score(SnapshotNet.load(path)[0], members, 1, count, jpeg=jpeg)
        for paths, jpeg in ((args.compare, None), (args.compare_jpeg, 90))
        for path in paths
        for group, (members, _, _) in groups.items()
    }
    speed = {(name, size): timing(nets[name], size) for name in (snapshot_name(5), snapshot_name(9)) for size in ((256, 256), (720, 1280))}

    names = ", ".join(Path(n).name for n in HELD_OUT_CLIPS)
    new_names = ", ".join(Path(n).name for n in NEW_SOURCE_CLIPS)
    lines = [
        f"Two groups of clips no snapshot training read: the held-out clips ({names}) and a new source, "
        f"X4K1000FPS scenes as GIFs ({new_names}; large motion); up to {count} windows per clip at stride 1, "
        f"longer side ≤ {args.max_side} px. Restored mean PSNR (dB) / SSIM; *snapshot*: the saved picture against the middle frame.",
        "",
        f"| group | model | file | windows | floor | network alone | snapshot | + refine {refine} | snapshot |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (group, name, kind), (alone, better) in by_group.items():
        lines.append(
            f"| {group} | {name} | {kind} | {alone['windows']} | {alone['floor']:.2f} | {fmt(alone['mean'])} | {fmt(alone['snapshot'])} "
            f"| {fmt(better['mean'])} | {fmt(better['snapshot'])} |"
        )
    lines += [
        "",
        f"Held-out clips ({names}), up to {count} windows each, longer side {args.max_side} px; "
        "PSNR (dB) / SSIM, 8-bit. *Floor*: every frame decoded as the middle frame (what an ordinary picture carries). "
        "*At ¼ size*: snapshot vs middle frame PSNR after 4×4 averaging (the visible part of the difference).",
        "",
        "| model | " + " | ".join(f"frame {i + 1}" for i in range(9)) + " | **mean** | floor | snapshot vs middle | at ¼ size |",
        "| --- | " + " | ".join("---" for _ in range(9)) + " | --- | --- | --- | --- |",
    ]
    for name, r in {**main_rows, **refined, **compared}.items():
        cells = [fmt(p) for p in r["positions"]] + [""] * (9 - len(r["positions"]))
        lines.append(f"| {name} ({r['windows']} clips) | " + " | ".join(cells) + f" | **{fmt(r['mean'])}** | {r['floor']:.2f} | {fmt(r['snapshot'])} | {r['snapshot_quarter']:.2f} |")
    lines += [
        "",
        "Paper (DAVIS, GPU-trained 3.5 days): 39.35 / 0.980 at k = 5, 34.59 / 0.949 at k = 9.",
        "",
        "Frame interval (k = 5; paper Table III: 39.12 / 38.89 / 38.81 dB at 1 / 3 / 5):",
        "",
        "| stride | restored | floor | snapshot vs middle |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {s} | {fmt(r['mean'])} | {r['floor']:.2f} | {fmt(r['snapshot'])} |" for s, r in strides.items()]
    lines += ["", "Snapshot saved as PNG or as JPEG quality 90 (k = 5, stride 1):", "", "| model | file | restored | snapshot vs middle |", "| --- | --- | --- | --- |"]
    lines += [f"| {m} | {f} | {fmt(r['mean'])} | {fmt(r['snapshot'])} |" for (m, f), r in jpeg_rows.items()]
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    lines += ["", f"Time per snapshot ({machine}; expansion without interpolation):", "", "| model | size | embed | expand |", "| --- | --- | --- | --- |"]
    lines += [f"| {n} | {w}×{h} | {e:.2f} s | {x:.2f} s |" for (n, (h, w)), (e, x) in speed.items()]
    lines += ["", f"Measured in {time.perf_counter() - started:.0f} s by `python -m benchmarks.snapshot --write`."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_block("snapshot", text)
    if args.sheet is not None:
        sheet(nets[snapshot_name(5)], load_frames(args.data / HELD_OUT_CLIPS[0], 240), args.sheet)
    if args.json is not None:
        rows = {
            name: {
                "restored_psnr_ssim": r["mean"],
                "snapshot_psnr_ssim": r["snapshot"],
                f"refine_{refine}_restored_psnr_ssim": refined[f"{name} + refine {refine}"]["mean"],
                f"refine_{refine}_snapshot_psnr_ssim": refined[f"{name} + refine {refine}"]["snapshot"],
                "clips": list(HELD_OUT_CLIPS),
                "new_source_restored_psnr_ssim": by_group[("new source (X4K GIFs)", name, "PNG")][0]["mean"],
                f"new_source_refine_{refine}_restored_psnr_ssim": by_group[("new source (X4K GIFs)", name, "PNG")][1]["mean"],
                "new_source_clips": list(NEW_SOURCE_CLIPS),
            }
            for name, r in main_rows.items()
        }
        robust = jpeg_rows[("JPEG-robust", "JPEG 90")]
        rows[snapshot_name(5, jpeg_robust=True)] = {
            "restored_psnr_ssim_png": jpeg_rows[("JPEG-robust", "PNG")]["mean"],
            "restored_psnr_ssim_jpeg90": robust["mean"],
            "snapshot_psnr_ssim_jpeg90": robust["snapshot"],
            "clips": list(HELD_OUT_CLIPS),
        }
        args.json.write_text(json.dumps({"benchmark": "benchmarks.snapshot", "machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
