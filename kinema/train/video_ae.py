"""Fitting a video-specific autoencoder to the frames of one video.

The paper's recipe: Adam, batch 6, L2 reconstruction, the learning rate constant for the
first half of training and decayed linearly to zero over the second half. Three changes,
each for fitting in minutes on a CPU:

* a time budget (``minutes``): the schedule then runs on elapsed time, so a budget
  always ends with the decay, whatever the machine's speed;
* a higher learning rate than the paper's 2e-4 (measured; see :class:`FitConfig`), made
  safe by the decoder's near-zero last layer (:class:`kinema.models.video_ae.VideoAE`);
* batch-norm statistics recomputed over the whole video at the end, so the eval-mode
  network reconstructs what the training-mode one learned. (Freezing them for the end of
  the fit, ``freeze_norm``, raises reconstruction but lowers latent interpolation: off by
  default; see ``docs/models/video_ae.md``.)

The loop is resumable: the state (weights, Adam moments, data order, step, elapsed time)
is saved every ``save_every`` seconds and on Ctrl-C (taken between two steps, never
inside one), and a rerun with the same video and options continues from it — bit for bit
when the run is bounded by epochs.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from kinema.models.video_ae import VideoAE, VideoAEConfig
from kinema.ops.metrics import psnr
from kinema.ops.resize import bicubic, resize
from kinema.train.loop import load_state, save_state
from kinema.types import BadInputError

STATE_ARCH = "kinema.video_ae.fit-state.v1"


@dataclass(frozen=True)
class FitConfig:
    """How long and how fast to fit. Training stops at ``epochs`` or after ``minutes``,
    whichever comes first; the learning-rate schedule follows the one that ends first."""

    epochs: int = 200
    minutes: float | None = None
    #: Frames per step (the paper: 6; twelve use two CPU cores better, measured).
    batch: int = 12
    #: Adam's learning rate before the decay (the paper: 2e-4, far slower here; measured).
    lr: float = 2e-3
    seed: int = 0
    #: Seconds between saved training states (0: after every step).
    save_every: float = 60.0
    #: From this share of the run on, batch norm uses the whole video's statistics
    #: (recomputed once) instead of each batch's (1: never, the default: it raises
    #: reconstruction but makes the decoder intolerant of interpolated codes; README).
    freeze_norm: float = 1.0
    #: The paper's "robust space" (appendix C): inputs shrunk by a random factor up to
    #: this and scaled back (bicubic) before encoding, outputs still the full frame, so
    #: small frames upscale in one pass (1: off).
    multi_res: int = 1

    def __post_init__(self):
        if self.epochs < 1 or self.batch < 1:
            raise ValueError("epochs and batch must be ≥ 1")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes must be positive, got {self.minutes}")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if self.multi_res < 1:
            raise ValueError(f"multi_res must be ≥ 1, got {self.multi_res}")


@dataclass(frozen=True)
class FitStatus:
    """What the progress callback sees after each step."""

    step: int
    #: Fraction of the run done, 0–1 (epochs or time, whichever is further along).
    done: float
    #: Training PSNR of recent batches (dB; an exponential average).
    psnr: float
    seconds: float


@dataclass(frozen=True)
class FitReport:
    steps: int
    epochs: float
    seconds: float
    #: Reconstruction PSNR of every frame (dB, 8-bit), eval mode, after the fit.
    frame_psnr: tuple[float, ...]
    resumed_from: int

    @property
    def psnr(self) -> float:
        return sum(self.frame_psnr) / len(self.frame_psnr)


#: Steps of linear warm-up at the start (Adam's first moments are noisy; cheap insurance
#: at a learning rate ten times the paper's).
WARMUP = 50


def learning_rate(base: float, done: float, step: int = WARMUP) -> float:
    """Constant for the first half of the run, then linearly down to zero (the paper's),
    after a short warm-up."""
    rate = base if done < 0.5 else base * 2 * (1 - done)
    return rate * min(1.0, (step + 1) / WARMUP)


def as_float(frames: torch.Tensor) -> torch.Tensor:
    """The uint8 frame cache → float32 in [0, 1]."""
    return frames.float().div_(255)


#: Share of a multi-resolution batch left at full size (the model must still reconstruct).
FULL_SIZE_SHARE = 0.25


@torch.no_grad()
def shrunk_inputs(x: torch.Tensor, largest: int, g: torch.Generator) -> torch.Tensor:
    """Each frame of ``x`` shrunk by its own random factor, log-uniform in [1, ``largest``]
    (a quarter of them kept sharp), and scaled back to its size (bicubic): what a receiver of small
    frames feeds the encoder."""
    h, w = x.shape[-2:]
    draws = torch.rand(len(x), 2, generator=g)
    out = x.clone()
    for i, (keep, u) in enumerate(draws.tolist()):
        if keep < FULL_SIZE_SHARE:
            continue
        factor = largest**u
        small = resize(x[i : i + 1], max(1, round(h / factor)), max(1, round(w / factor)))
        out[i] = bicubic(small, (h, w))[0]
    return out


@torch.no_grad()
def recalibrate(net: VideoAE, frames: torch.Tensor, batch: int) -> None:
    """Batch-norm running statistics recomputed as exact averages over ``frames``."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    for i in range(0, len(frames), batch):
        net(as_float(frames[i : i + batch]))
    for m in norms:
        m.momentum = 0.1
    net.eval()


def freeze_norm(net: VideoAE) -> None:
    """Batch norm in eval mode (fixed statistics) while the rest keeps training."""
    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


@torch.no_grad()
def reconstruction_psnr(net: VideoAE, frames: torch.Tensor, batch: int = 8) -> list[float]:
    """Per-frame PSNR of ``net``'s reconstruction of the uint8 cache ``frames``."""
    net.eval()
    out = []
    for i in range(0, len(frames), batch):
        x = as_float(frames[i : i + batch])
        out.extend(psnr(net(x), x).tolist())
    return out


def fit(
    frames: torch.Tensor,
    model: VideoAEConfig,
    config: FitConfig = FitConfig(),
    *,
    device: torch.device | str = "cpu",
    state: Path | None = None,
    tag: dict | None = None,
    progress: Callable[[FitStatus], None] | None = None,
) -> tuple[VideoAE, FitReport]:
    """Fit an autoencoder to ``frames`` ``(N, 3, H, W)`` uint8 (the whole video, cached).

    ``state``: where the resumable training state lives; an existing one is resumed if it
    was saved for the same ``tag`` (the caller's description of the video), model and
    options, and refused with :class:`BadInputError` otherwise. It is deleted when the fit
    completes. Returns the network in eval mode, on ``device``.
    """
    if frames.dim() != 4 or frames.shape[1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(f"expected uint8 frames (N, 3, H, W), got {frames.dtype} {tuple(frames.shape)}")
    count = len(frames)
    if count < 2:
        raise BadInputError(f"a video autoencoder needs at least 2 frames, got {count}")
    with torch.random.fork_rng(devices=[]):  # seeded initialization, the caller's RNG untouched
        torch.manual_seed(config.seed)
        net = VideoAE(model).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(config.seed)
    frames = frames.to(device)
    per_epoch = math.ceil(count / config.batch)
    total = config.epochs * per_epoch
    budget = config.minutes * 60 if config.minutes else math.inf
    # What a saved state must match to be resumed (JSON-normalized, as the file holds it).
    identity = json.loads(json.dumps({"tag": tag or {}, "fit": asdict(config) | {"save_every": None}}))
    step, elapsed, order, frozen = 0, 0.0, torch.empty(0, dtype=torch.long), False
    if state is not None and Path(state).is_file():
        step, elapsed, order, frozen = _resume(Path(state), net, opt, g, model, identity)
    resumed_from = step
    parts = {("net", "opt"): (net, opt)}

    def save() -> None:
        if state is not None:
            meta = identity | {"step": step, "elapsed": elapsed, "order": order.tolist(), "frozen": frozen}
            save_state(Path(state), parts, g, arch=STATE_ARCH, config=model.as_dict(), meta=meta)

    smooth, last_save = None, time.perf_counter()
    net.train()
    with _deferred_interrupt() as interrupted:
        while True:
            started = time.perf_counter()
            done = max(step / total, elapsed / budget)
            if done >= 1:
                break
            if len(order) == 0:  # a new epoch: a fresh order, topped up to whole batches
                order = torch.randperm(count, generator=g)
                order = torch.cat([order, torch.randint(0, count, (-count % config.batch,), generator=g)])
            if done >= config.freeze_norm and not frozen:
                recalibrate(net, frames, config.batch)
                frozen = True
            if frozen:
                freeze_norm(net)
            index, order = order[: config.batch], order[config.batch :]
            for group in opt.param_groups:
                group["lr"] = learning_rate(config.lr, done, step)
            x = as_float(frames[index.to(frames.device)])
            seen = x if config.multi_res == 1 else shrunk_inputs(x, config.multi_res, g)
            loss = (net(seen) - x).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            elapsed += time.perf_counter() - started
            value = -10 * math.log10(max(loss.item(), 1e-10))
            smooth = value if smooth is None else 0.9 * smooth + 0.1 * value
            if time.perf_counter() - last_save >= config.save_every:
                save()
                last_save = time.perf_counter()
            if interrupted():  # only ever between whole steps, so the saved state is consistent
                save()
                raise KeyboardInterrupt
            if progress is not None:
                try:
                    progress(FitStatus(step=step, done=min(1.0, max(step / total, elapsed / budget)), psnr=smooth, seconds=elapsed))
                except KeyboardInterrupt:
                    save()
                    raise
    if not frozen:
        recalibrate(net, frames, config.batch)
    net.eval()
    report = FitReport(
        steps=step,
        epochs=step / per_epoch,
        seconds=elapsed,
        frame_psnr=tuple(reconstruction_psnr(net, frames)),
        resumed_from=resumed_from,
    )
    if state is not None:
        Path(state).unlink(missing_ok=True)
    return net, report


@contextmanager
def _deferred_interrupt():
    """Ctrl-C during the block sets a flag (read by calling the yielded function) instead of
    raising wherever the interpreter happens to be — e.g. between Adam's moment and
    parameter updates. Only the main thread can own signals; elsewhere nothing changes."""
    caught = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield lambda: bool(caught)
    finally:
        signal.signal(signal.SIGINT, previous)


def _resume(path: Path, net: VideoAE, opt: torch.optim.Adam, g: torch.Generator, model: VideoAEConfig, identity: dict):
    try:
        _, meta = load_state(path, {("net", "opt"): (net, opt)}, g, arch=STATE_ARCH, config=model.as_dict())
    except ValueError:
        meta = None
    if meta is None or {k: meta.get(k) for k in identity} != identity:
        raise BadInputError(f"{path}: a training state for another video or other options (delete it, or pass --restart)")
    return int(meta["step"]), float(meta["elapsed"]), torch.tensor(meta["order"], dtype=torch.long), bool(meta.get("frozen", False))
