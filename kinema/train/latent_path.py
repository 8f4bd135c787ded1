"""Training a :class:`kinema.models.latent_path.LatentPath` for one video's autoencoder.

The autoencoder is frozen; only the path's bend is trained, through the decoder, on the
video's own frames. Each sample is a triplet of frames ``(i, i + g, i + 2g)`` (``g`` up
to ``gaps``). The path from code ``i`` to code ``i + 2g`` is decoded at ``points + 1``
evenly spaced times, and three terms are minimized:

* **data** — the decoded midpoint against frame ``i + g``: the video shows what lies
  halfway, so the path is taught to go through it (this term is ours: the paper has
  no in-between frames to learn from);
* **energy** — the discrete energy of the decoded path, ``K·Σ‖g(z_{k+1}) − g(z_k)‖²``
  (mean over pixels): the paper's minimizing-geodesic loss, whose minimizers are the
  shortest paths on the manifold traversed at constant speed;
* **speed** — the spread of the decoded segments' lengths (their variance over their
  squared mean): the paper's constant-speed loss, so that time t is fraction t of the way.

It runs in :func:`kinema.train.loop.run_loop`, the one training loop, from a working
folder that holds its resumable state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from kinema.models.latent_path import LatentPath, LatentPathConfig
from kinema.models.video_ae import VideoAE
from kinema.train.loop import Schedule, run_loop
from kinema.train.video_ae import as_float
from kinema.types import BadInputError

STATE_ARCH = "kinema.latent_path.state.v1"


@dataclass(frozen=True)
class PathFitConfig:
    steps: int = 400
    lr: float = 1e-3
    #: Triplets per step.
    batch: int = 6
    #: Triplets ``(i, i + g, i + 2g)`` for ``g`` in 1 … ``gaps``.
    gaps: int = 2
    #: Segments the path is decoded in (an even number: the midpoint is one of them).
    points: int = 4
    energy: float = 0.01
    speed: float = 0.01
    #: Weight of the energy and speed terms on paths between neighbouring frames — the
    #: pairs retiming interpolates, which no frame lies between (0: not used).
    neighbours: float = 0.0
    hidden: int = 96
    seed: int = 0

    def __post_init__(self):
        if self.steps < 1 or self.batch < 1 or self.gaps < 1 or self.points < 2 or self.points % 2:
            raise ValueError("steps, batch and gaps must be ≥ 1 and points an even number ≥ 2")


def triplets(count: int, gaps: int) -> torch.Tensor:
    """``(M, 3)`` frame indices ``(i, i + g, i + 2g)`` inside a video of ``count`` frames."""
    rows = [(i, i + g, i + 2 * g) for g in range(1, gaps + 1) for i in range(count - 2 * g)]
    if not rows:
        raise BadInputError(f"a latent path is learned from frames between others: {count} frames are too few")
    return torch.tensor(rows)


def path_terms(path: LatentPath, net: VideoAE, za: torch.Tensor, zb: torch.Tensor, middle: torch.Tensor | None, size: tuple[int, int], points: int) -> dict[str, torch.Tensor]:
    """The three losses of a batch of codes ``za``, ``zb`` and true middle frames (None:
    no data term)."""
    n = len(za)
    t = torch.linspace(0, 1, points + 1, device=za.device)
    codes = path(za.repeat_interleave(points + 1, 0), zb.repeat_interleave(points + 1, 0), t.repeat(n))
    frames = net.decode(codes, size).view(n, points + 1, 3, *size)
    steps = (frames[:, 1:] - frames[:, :-1]).pow(2).flatten(2).mean(2)  # (n, points)
    lengths = steps.clamp_min(1e-12).sqrt()
    return {
        **({} if middle is None else {"data": (frames[:, points // 2] - middle).pow(2).mean()}),
        "energy": points * steps.sum(1).mean(),
        "speed": (lengths.var(1, unbiased=False) / lengths.mean(1).pow(2).clamp_min(1e-12)).mean(),
    }


def fit_path(
    net: VideoAE,
    frames: torch.Tensor,
    config: PathFitConfig = PathFitConfig(),
    *,
    work: Path,
    identity: dict,
    device: torch.device | str = "cpu",
    progress: Callable[[int, dict], None] | None = None,
) -> tuple[LatentPath, dict]:
    """A path for ``net``, fit to ``frames`` ``(N, 3, H, W)`` uint8; ``work`` holds the
    resumable state (``identity``, the video's description, must match to resume).
    Returns the path in eval mode and its scores: the midpoint PSNR of the gap-1 triplets
    along the learned path and along the straight line."""
    net = net.to(device).eval().requires_grad_(False)
    size = tuple(frames.shape[-2:])
    with torch.no_grad():
        codes = torch.cat([net.encode(as_float(frames[i : i + 16]).to(device)) for i in range(0, len(frames), 16)])
    samples = triplets(len(frames), config.gaps)
    path_config = LatentPathConfig(channels=codes.shape[1], hidden=config.hidden)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        path = LatentPath(path_config).to(device)
    opt = torch.optim.Adam(path.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(config.seed)
    weights = {"data": 1.0, "energy": config.energy, "speed": config.speed}

    def step(number: int):
        pick = samples[torch.randint(0, len(samples), (config.batch,), generator=g)]
        middle = as_float(frames[pick[:, 1]]).to(device)
        terms = path_terms(path, net, codes[pick[:, 0]], codes[pick[:, 2]], middle, size, config.points)
        loss = sum(weights[k] * v for k, v in terms.items())
        if config.neighbours:
            first = torch.randint(0, len(frames) - 1, (config.batch,), generator=g)
            near = path_terms(path, net, codes[first], codes[first + 1], None, size, config.points)
            loss = loss + config.neighbours * (config.energy * near["energy"] + config.speed * near["speed"])
        return loss, {k: float(v.detach()) for k, v in terms.items()}

    gap1 = samples[samples[:, 1] - samples[:, 0] == 1]

    @torch.no_grad()
    def evaluate() -> dict[str, float]:
        scores = {"learned": 0.0, "line": 0.0}
        for rows in gap1.split(16):
            truth = as_float(frames[rows[:, 1]]).to(device)
            za, zb, half = codes[rows[:, 0]], codes[rows[:, 2]], torch.full((len(rows),), 0.5, device=device)
            for name, z in (("learned", path(za, zb, half)), ("line", torch.lerp(za, zb, 0.5))):
                mse = (net.decode(z, size) - truth).pow(2).flatten(1).mean(1).clamp_min(1e-10)
                scores[name] += float((-10 * torch.log10(mse)).sum())
        return {f"{k}_psnr": v / len(gap1) for k, v in scores.items()}

    path.train()
    Path(work).mkdir(parents=True, exist_ok=True)
    run_loop(
        work,
        parts={("path", "opt"): (path, opt)},
        optimizer=opt,
        generator=g,
        schedule=Schedule(steps=config.steps, lr=config.lr, eval_every=max(1, min(100, config.steps))),
        step=step,
        evaluate=evaluate,
        state_arch=STATE_ARCH,
        model_config={**path_config.as_dict(), "video": identity},
        train_config=asdict(config),
        progress=progress,
    )
    path.eval()
    scores = evaluate()
    return path, {**{k: round(v, 3) for k, v in scores.items()}, "steps": config.steps, "triplets": len(samples)}
