"""Training the learned video codec: short GOPs coded end to end at a random quality level.

Every sample is a run of ``frames`` consecutive frames (an I-frame then P-frames, each
predicted from the previous *reconstruction*, as the encoder does): the loss of the whole
run, λ·MSE + bits per pixel averaged over its frames, is what the networks minimise.
Errors of an early frame therefore cost in every frame after it, which is the content-
adaptive codec paper's error-propagation-aware training. Runs come from real clips
(:data:`TRAIN_CLIPS`, at strides 1–2, flipped and reversed) and from kinema's synthetic
scenes (moving photo layers). Motion is DIS flow between the original frames, as the
encoder estimates it. :data:`VALIDATION_CLIPS` select the kept state by the mean
rate–distortion loss over every level; the benchmark's clips are never read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.engines.codec import code_run, noisy, pad, rd_loss, round_symbols
from kinema.models.codec import KINDS, VideoCodec
from kinema.models.codec.entropy import histogram
from kinema.ops.resize import fit_within
from kinema.train.clips import augment, cut_indices, load_frames, random_crop
from kinema.train.deblur import TRAIN_CLIPS
from kinema.train.loop import Schedule, best_logged, run_loop
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets

STATE_ARCH = "codec-train-v1"
VALIDATION_CLIPS = ("videos/imageio_test.webm",)
__all__ = ["TRAIN_CLIPS", "VALIDATION_CLIPS", "CodecTrainConfig", "train_codec"]


@dataclass(frozen=True)
class CodecTrainConfig:
    steps: int = 6000
    batch: int = 8
    crop: int = 96
    #: Frames per training GOP (an I-frame and frames − 1 P-frames).
    frames: int = 3
    lr: float = 2e-4
    #: Share of samples from synthetic scenes.
    synthetic: float = 0.3
    #: Synthetic sequences made once at the start.
    bank: int = 256
    eval_every: int = 250
    seed: int = 0
    max_side: int = 480
    strides: tuple[int, ...] = (1, 2)
    #: Learning rate of the densities and gains, relative to ``lr``.
    rate_lr_scale: float = 10.0
    #: A fresh start first fits the densities to the fresh networks' latents
    #: (:func:`fit_densities`): this many steps on the symbols of this many runs per level.
    warm_steps: int = 600
    warm_runs: int = 32


class CodecClips:
    """Runs of consecutive frames from real clips, never across a scene cut."""

    def __init__(self, paths: list[Path], *, max_side: int):
        self.clips = [load_frames(Path(p), max_side) for p in paths]
        self.cuts = [cut_indices(c) for c in self.clips]

    def sample(self, g: torch.Generator, frames: int, crop: int, strides: tuple[int, ...]) -> torch.Tensor:
        """``(frames, 3, crop, crop)`` float in [0, 1]."""
        while True:
            clip = int(torch.randint(len(self.clips), (), generator=g))
            stride = strides[int(torch.randint(len(strides), (), generator=g))]
            span = (frames - 1) * stride
            if len(self.clips[clip]) <= span:
                continue
            first = int(torch.randint(len(self.clips[clip]) - span, (), generator=g))
            if any(i in self.cuts[clip] for i in range(first, first + span)):
                continue
            run = torch.stack([self.clips[clip][first + k * stride] for k in range(frames)])
            return augment(random_crop(run, crop, g).float() / 255, g)


def synthetic_bank(photos: list[torch.Tensor], count: int, frames: int, size: int, g: torch.Generator) -> torch.Tensor:
    """``(count, frames, 3, size, size)`` uint8 runs of synthetic scenes (camera and layer motion)."""
    config = SyntheticConfig(height=size, width=size, background_shift=6.0 * frames, sprite_shift=10.0 * frames, blur_probability=0.0)
    maker = SyntheticTriplets(photos, config)
    runs = []
    for _ in range(count):
        scene = maker.scene(g)
        runs.append(torch.stack([scene.render((i + 0.5) / frames) for i in range(frames)]))
    return torch.stack(runs).mul(255).round().to(torch.uint8)


def draw_run(clips: CodecClips, bank: torch.Tensor | None, cfg: CodecTrainConfig, g: torch.Generator, crop: int) -> torch.Tensor:
    """One training run ``(frames, 3, crop, crop)``: from the synthetic bank with
    probability ``cfg.synthetic``, else from the real clips."""
    if bank is not None and bool(torch.rand((), generator=g) < cfg.synthetic):
        run = bank[int(torch.randint(bank.shape[0], (), generator=g))]
        return augment(random_crop(run, crop, g).float() / 255, g)
    return clips.sample(g, cfg.frames, crop, cfg.strides)


@torch.no_grad()
def symbol_histograms(codec: VideoCodec, clips: CodecClips, bank: torch.Tensor | None, cfg: CodecTrainConfig, *, runs: int, crop: int, seed: int) -> dict[str, torch.Tensor]:
    """How often the finished encoder makes each symbol, per kind, level and channel, on
    ``runs`` training runs per level (``crop``² crops, the training mix of clips and
    synthetic scenes): what :meth:`VideoCodec.freeze_tables` fits the tables to."""
    codec.eval()
    r = codec.config.range
    g = torch.Generator().manual_seed(seed)
    out = {kind: torch.zeros(codec.config.levels, codec.channels(kind), 2 * r + 1, dtype=torch.float64) for kind in KINDS}
    for level in range(codec.config.levels):
        for _ in range(runs):
            run = pad(draw_run(clips, bank, cfg, g, crop)[:, None])
            for coded in code_run(codec, run, level, round_symbols(codec)):
                for kind, symbols in coded.latents.items():
                    out[kind][level] += histogram(symbols, r)
    return out


def fit_densities(codec: VideoCodec, histograms: dict[str, torch.Tensor], *, steps: int, lr: float = 1e-2) -> float:
    """Fit the densities alone to ``histograms`` (:func:`symbol_histograms`: the symbols the
    current networks make) by their discrete likelihood; returns the last mean bits per
    symbol.

    A fresh density is far wider than a block transform's coefficients, most of which
    round to zero; at the networks' pace it would take most of a CPU-sized run to catch
    up, and until then the rate term gives the encoder almost no gradient. Done once, on
    a fresh start (cheap: it sees counts per symbol, not the latents)."""
    r = codec.config.range
    grid = torch.arange(-r, r + 1, dtype=torch.float32)
    params = [p for density in codec.densities.values() for level in density for p in level.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    total = sum(float(h.sum()) for h in histograms.values())
    for _ in range(steps):
        bits = grid.new_zeros(())
        for kind, counts in histograms.items():
            for level in range(codec.config.levels):
                c = counts.shape[1]
                p = codec.density(kind, level).likelihood(grid.expand(1, c, 1, -1))[0, :, 0]
                bits = bits - (counts[level].float() * torch.log2(p)).sum()
        opt.zero_grad(set_to_none=True)
        bits.backward()
        opt.step()
    return float(bits.detach()) / total


def validation_runs(paths: list[Path], frames: int, *, max_side: int = 320, count: int = 4) -> list[torch.Tensor]:
    """``count`` runs ``(frames, 1, 3, H, W)`` spread over each clip (whole frames, padded)."""
    runs = []
    for path in paths:
        clip = load_frames(Path(path), max_side)
        for k in range(count):
            first = k * (len(clip) - frames) // max(count - 1, 1)
            run = torch.stack([clip[first + i] for i in range(frames)]).float() / 255
            runs.append(pad(fit_within(run, max_side))[:, None])
    return runs


@torch.no_grad()
def evaluate(codec: VideoCodec, runs: list[torch.Tensor]) -> dict[str, float]:
    """Mean RD loss over every level (the selection score), and PSNR / bpp per level."""
    codec.eval()
    row, losses = {}, []
    for level in range(codec.config.levels):
        scores = [rd_loss(codec, run, level, round_symbols(codec)) for run in runs]
        losses.append(sum(float(s[0]) for s in scores) / len(scores))
        row[f"val_psnr_{level + 1}"] = sum(s[1] for s in scores) / len(scores)
        row[f"val_bpp_{level + 1}"] = sum(s[2] for s in scores) / len(scores)
    return {"val_rd": sum(losses) / len(losses), **row}


def train_codec(
    codec: VideoCodec,
    clips: CodecClips,
    bank: torch.Tensor | None,
    validation: list[torch.Tensor],
    cfg: CodecTrainConfig,
    out: Path,
    *,
    stop_at: int | None = None,
    progress=None,
) -> int:
    """Fit ``codec``; the state with the lowest ``val_rd`` is kept in ``out/best.safetensors``
    (its integer tables filled)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(cfg.seed)
    # The densities and the per-level gains set the rate; at the networks' rate they would
    # take most of a CPU-sized run to move from where they start.
    fast = [p for name, p in codec.named_parameters() if name.startswith(("densities.", "log_gains."))]
    slow = [p for name, p in codec.named_parameters() if not name.startswith(("densities.", "log_gains."))]
    opt = torch.optim.Adam([{"params": slow}, {"params": fast, "lr_scale": cfg.rate_lr_scale}], lr=cfg.lr)
    best = best_logged(out / "log.csv", "val_rd", lower=True)
    if not (out / "state.safetensors").exists():
        fit_densities(codec, symbol_histograms(codec, clips, bank, cfg, runs=cfg.warm_runs, crop=cfg.crop, seed=cfg.seed + 2), steps=cfg.warm_steps)

    def step(number: int):
        codec.train()
        run = torch.stack([draw_run(clips, bank, cfg, g, cfg.crop) for _ in range(cfg.batch)], 1)  # (T, N, 3, S, S)
        level = int(torch.randint(codec.config.levels, (), generator=g))
        loss, psnr, bpp = rd_loss(codec, run, level, noisy(codec, g))
        return loss, {"psnr": psnr, "bpp": bpp}

    def score() -> dict[str, float]:
        nonlocal best
        row = evaluate(codec, validation)
        if row["val_rd"] < best:
            best = row["val_rd"]
            kept = VideoCodec(codec.config)
            kept.load_state_dict(codec.state_dict())
            kept.freeze_tables()
            kept.save(out / "best.safetensors", val_rd=best, **{k: v for k, v in row.items() if k != "val_rd"})
        return row

    return run_loop(
        out,
        parts={("codec", "opt"): (codec, opt)},
        optimizer=opt,
        generator=g,
        schedule=Schedule(steps=cfg.steps, lr=cfg.lr, eval_every=cfg.eval_every),
        step=step,
        evaluate=score,
        state_arch=STATE_ARCH,
        model_config=codec.config.as_dict(),
        train_config=dataclasses.asdict(cfg),
        stop_at=stop_at,
        progress=progress,
    )
