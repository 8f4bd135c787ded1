"""Training loop for the learned interpolator: plain PyTorch, resumable, seeded.

A step draws a batch from the real windows (:mod:`kinema.train.clips`) and the synthetic
generator (:mod:`kinema.train.synthetic`), mixed by ``synthetic``, and gives the network
the classical engine's flows as its starting point (:class:`ClassicalGuide`), as the
engine does at inference; the loss is
Charbonnier + gradient + census on the output and, at half weight, Charbonnier on the blend before
synthesis (which keeps the flow estimator honest, as in the paper). With ``distill`` > 0 a
privileged-flow term (RIFE's idea, with DIS as the teacher) pulls the network's flows
towards DIS flows computed *from the true middle frame* (:func:`privileged_flows`). Every ``eval_every`` steps it writes a row to
``log.csv`` and a resumable state to ``state.safetensors`` (model, Adam moments, the data
generator's RNG state and the step: resuming gives the same weights as not stopping).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from kinema.engines.learned import Guide
from kinema.models.interp.model import InterpNet
from kinema.models.interp.objective import loss_terms, privileged_flows
from kinema.ops.metrics import psnr
from kinema.train.adversarial import PatchDiscriminator, discriminator_update, generator_loss, worst_patches
from kinema.train.distributed import Method, Replica
from kinema.train.loop import Schedule, run_loop

Sampler = Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]]
STATE_ARCH = "kinema.interp.train-state.v1"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 20000
    batch: int = 8
    lr: float = 3e-4
    #: Fraction of each batch drawn from the synthetic generator.
    synthetic: float = 0.5
    census_weight: float = 0.1
    seed: int = 0
    eval_every: int = 500
    #: Weight of the ROI adversarial generator loss (0: off; see :mod:`kinema.train.adversarial`).
    adversarial: float = 0.0
    #: Side of the discriminator's patches and how many per image.
    adv_patch: int = 32
    adv_count: int = 2
    #: Weight of the privileged-flow term (0: off; see :func:`privileged_flows`).
    distill: float = 0.0


def _batch(samplers: list[tuple[Sampler, float]], size: int, g: torch.Generator):
    a, mid, b, ts = [], [], [], []
    for i in range(size):
        pick = float(torch.rand((), generator=g))
        sampler = next((s for s, cum in samplers if pick < cum), samplers[-1][0])
        x, y, z, t = sampler(g)
        a.append(x), mid.append(y), b.append(z), ts.append(t)
    # Crops from different sources can differ in size: use the smallest common one.
    h = min(x.shape[-2] for x in a)
    w = min(x.shape[-1] for x in a)
    stack = lambda xs: torch.stack([x[:, :h, :w] for x in xs])  # noqa: E731
    return stack(a), stack(mid), stack(b), torch.tensor(ts)


#: ``guide(a, b, t, first=0, parts=False)``: initial flows ``(N, 4, H, W)``, or with
#: ``parts`` the :class:`~kinema.ops.projection.MotionParts` a network with a learned
#: priority projects itself (see ClassicalGuide).
def train(
    net: InterpNet,
    samplers: list[tuple[Sampler, float]],
    validation: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]],
    cfg: TrainConfig,
    out: Path,
    *,
    device: torch.device | str = "cpu",
    stop_at: int | None = None,
    progress: Callable[[int, dict], None] | None = None,
    guide: Guide | None = None,
    replica: Replica = Replica(),
) -> int:
    """Train ``net`` in place, resuming from ``out/state.safetensors`` if present.

    ``samplers`` are ``(sample_fn, weight)``; ``validation`` triplets are scored (PSNR)
    at each log step. ``guide`` gives the network its initial flows (None: from zero). ``stop_at`` ends early (for tests and time-boxed runs). Returns the
    step reached. ``replica``: this process's place in a ``torchrun`` run
    (:mod:`kinema.train.distributed`); each rank trains on its share of every global batch.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if replica.world > 1 and cfg.adversarial > 0:
        raise ValueError("the adversarial stage is not data-parallel yet: train it in one process")
    share = replica.share(cfg.batch)
    total = sum(w for _, w in samplers)
    cumulative, acc = [], 0.0
    for sampler, weight in samplers:
        acc += weight / total
        cumulative.append((sampler, acc))
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    net.to(device).train()
    predict = replica.wrap(Method(net, InterpNet.predict), device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    parts = {("model", "adam"): (net, opt)}
    disc = opt_d = None
    if cfg.adversarial > 0:
        disc = PatchDiscriminator().to(device).train()
        opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        parts[("disc", "adam_d")] = (disc, opt_d)

    def step(_: int):
        # Every rank draws the whole batch (one random stream at any world size) and
        # trains on its share.
        a, mid, b, t = (x[share] for x in _batch(cumulative, cfg.batch, g))
        flows = None if guide is None else guide(a, b, t, first=share.start, parts=net.config.priority).to(device)
        teacher = privileged_flows(a, mid, b) if cfg.distill > 0 else None
        a, mid, b, t = (x.to(device) for x in (a, mid, b, t))
        loss, out_frames = loss_terms(predict, a, mid, b, t, flows, census_weight=cfg.census_weight, distill=cfg.distill, teacher=teacher)
        if disc is None:
            return loss, {}
        fake, real = worst_patches(out_frames, mid, size=cfg.adv_patch, count=cfg.adv_count)
        return loss + cfg.adversarial * generator_loss(disc, fake), {}, discriminator_update(disc, opt_d, fake, real)

    return run_loop(
        out,
        parts=parts,
        optimizer=opt,
        generator=g,
        schedule=Schedule(cfg.steps, cfg.lr, cfg.eval_every),
        step=step,
        evaluate=lambda: {"val_psnr": evaluate(net, validation, device, guide)},
        state_arch=STATE_ARCH,
        model_config=net.config.as_dict(),
        train_config=asdict(cfg),
        replica=replica,
        stop_at=stop_at,
        progress=progress,
    )


@torch.no_grad()
def evaluate(net: InterpNet, triplets, device, guide: Guide | None = None) -> float:
    """Mean PSNR over ``triplets`` (model put back in training mode after)."""
    if not triplets:
        return float("nan")
    net.eval()
    scores = []
    for a, mid, b, t in triplets:
        ts = torch.tensor([t])
        flows = None if guide is None else guide(a[None], b[None], ts, parts=net.config.priority).to(device)
        pred = net(a[None].to(device), b[None].to(device), ts.to(device), flows)
        scores.append(float(psnr(pred.cpu(), mid[None])[0]))
    net.train()
    return sum(scores) / len(scores)
