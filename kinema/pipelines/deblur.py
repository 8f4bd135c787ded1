"""``deblur``: motion-blurred video in, the same frames sharp out (same count, same
timing, audio kept); and the check behind ``--deblur auto``.

The check looks at a few short runs of frames spread over the video, restores their
middle frames and measures how much the network changed them (PSNR between a frame and
its restoration). The network was also trained on frames without blur, to leave them
alone, so the change measures what restoring would do to this video: below
:data:`SHARP_ABOVE_DB` the video is restored; otherwise it is passed through untouched, so
``auto`` never alters a video it calls sharp. It asks what *this network* would change, not
whether the video is blurred: a network that changes little calls everything sharp
(``docs/models/deblur.md`` has the measurements).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.engines.deblur import Deblurrer, load_deblurrer
from kinema.io.atomic import check_output
from kinema.io.output import output_kind
from kinema.io.probe import open_reader
from kinema.ops.metrics import psnr
from kinema.pipelines.convert import ConvertConfig, ConvertResult, Progress, convert
from kinema.types import DeblurMode, Frame

#: A video whose sampled frames the network changes by less than this (PSNR between a
#: frame and its restoration, dB) is left as it is: about where a change starts to be
#: visible. Set by hand: on the validation clip the shipped network's change did not
#: separate sharp from blurred (``docs/models/deblur.md``).
SHARP_ABOVE_DB = 38.0
#: Runs of frames the check looks at, and frames in each run.
SAMPLES = 6
RUN = 3


@dataclass(frozen=True)
class BlurCheck:
    """What ``--deblur auto`` saw: frames sampled, their mean change, the verdict."""

    sampled: int
    change_db: float
    blurred: bool

    def describe(self) -> str:
        verdict = "blurred: deblurring" if self.blurred else "sharp: left as it is"
        return f"blur check on {self.sampled} frames: restoration changes them by {self.change_db:.1f} dB PSNR → {verdict}"


def _runs(total: int | None, samples: int, run: int) -> list[range]:
    if total is None or total <= run * samples:
        return [range(i * run, (i + 1) * run) for i in range(samples)]
    starts = torch.linspace(0, total - run, samples).round().long().tolist()
    return [range(s, s + run) for s in sorted(set(starts))]


def check_blur(frames: Iterable[Frame], deblurrer: Deblurrer, *, total: int | None = None, samples: int = SAMPLES, run: int = RUN) -> BlurCheck:
    """Restore the middle frame of ``samples`` runs of ``run`` frames spread over
    ``frames`` (``total`` of them, if known) and measure the change."""
    runs = _runs(total, samples, run)
    wanted = {i: n for n, r in enumerate(runs) for i in r}
    collected: list[list[torch.Tensor]] = [[] for _ in runs]
    stream = iter(frames)
    with contextlib.closing(stream) if hasattr(stream, "close") else contextlib.nullcontext():
        # Closed as soon as the last run is read: the file is not held open until collected.
        for index, frame in enumerate(stream):
            if index in wanted:
                collected[wanted[index]].append(frame.image)
            if index >= runs[-1][-1]:
                break
    changes = []
    for images in collected:
        if not images:
            continue
        middle = len(images) // 2
        restored = list(deblurrer.restore(iter(images)))[middle]
        changes.append(float(psnr(restored[None], images[middle][None])))
    finite = [c for c in changes if math.isfinite(c)]
    change = sum(finite) / len(finite) if finite else math.inf
    return BlurCheck(sampled=len(changes), change_db=change, blurred=change < SHARP_ABOVE_DB)


def deblurrer_for(
    source: Path, mode: DeblurMode, *, weights: Path | None = None, fps=None, device: torch.device | str = "cpu"
) -> tuple[Deblurrer | None, BlurCheck | None]:
    """The deblurrer a run over ``source`` should use under ``mode`` (None: leave the
    frames alone), with the network at ``weights`` (None: the shipped one), and for
    ``AUTO`` the check that decided."""
    mode = DeblurMode(mode)
    if mode is DeblurMode.OFF:
        return None, None
    deblurrer = load_deblurrer(weights, device=device)
    if mode is DeblurMode.ON:
        return deblurrer, None
    reader = open_reader(Path(source), fps=fps)
    check = check_blur(reader, deblurrer, total=reader.info.frame_count)
    return (deblurrer if check.blurred else None), check


def restored(frames: Iterable[Frame], deblurrer: Deblurrer | None) -> Iterator[Frame]:
    """``frames``, restored when a deblurrer is given."""
    return iter(frames) if deblurrer is None else deblurrer.restore_frames(frames)


def deblur_video(
    source: Path,
    output: Path,
    config: ConvertConfig,
    *,
    mode: DeblurMode = DeblurMode.ON,
    weights: Path | None = None,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> tuple[ConvertResult, BlurCheck | None]:
    """Write ``source``'s frames restored to ``output`` with their timing (and audio);
    the output appears only when complete. With ``DeblurMode.AUTO`` a video the check
    finds sharp is written frame for frame as decoded (re-encoded, not restored)."""
    # Bad outputs are refused before the blur check's work, as convert refuses them before reading.
    output_kind(Path(output))
    check_output(Path(output), overwrite=config.overwrite, inputs=(Path(source),))
    chosen, check = deblurrer_for(source, mode, weights=weights, fps=config.fps, device=device)
    return convert(source, output, config, progress=progress, transform=lambda frames: restored(frames, chosen)), check
