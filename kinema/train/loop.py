"""The one training loop, and what every trainer shares: resumable states, the
learning-rate schedule, the CSV log and its plot, and the metadata of a finished run.

A trainer (``train/interp.py``, ``train/gif2video.py`` for CCDNet and the dither
classifier, ``train/snapshot.py``) builds its model, optimizer and data, and hands
:func:`run_loop` three things: a ``step`` that draws one batch and returns its loss, an
``evaluate`` that scores the held-out samples, and the parts to checkpoint. The loop owns
seeding order, the schedule, the optimizer step, logging, evaluation, checkpoints,
resuming and the torchrun barrier.

Two fits are not trainers and keep their own short loops: ``vsae fit``
(:func:`kinema.train.video_ae.fit`) runs on a user's wall-clock budget, saves on a timer
and refuses a state made for another video; ``--adapt`` (:mod:`kinema.pipelines.adapt`)
is inference, which never imports ``train/``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.models.checkpoint import load_checkpoint, save_checkpoint, tensor_digest
from kinema.train.distributed import Replica

#: What a resumable state holds: ``{(module name, optimizer name): (module, optimizer)}``.
Parts = dict[tuple[str, str], tuple[torch.nn.Module, torch.optim.Adam]]


def cosine_lr(opt: torch.optim.Optimizer, base: float, step: int, total: int, floor: float = 0.05) -> None:
    """Cosine decay from ``base`` to ``floor × base`` over ``total`` steps (times a group's
    ``lr_scale``, where a trainer gives some parameters a faster rate)."""
    for group in opt.param_groups:
        group["lr"] = group.get("lr_scale", 1.0) * base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / total)))


def optimizer_tensors(prefix: str, module: torch.nn.Module, opt: torch.optim.Adam) -> dict[str, torch.Tensor]:
    tensors = {}
    for i, p in enumerate(module.parameters()):
        state = opt.state.get(p)
        if state:
            tensors[f"{prefix}.{i}.exp_avg"] = state["exp_avg"]
            tensors[f"{prefix}.{i}.exp_avg_sq"] = state["exp_avg_sq"]
            tensors[f"{prefix}.{i}.step"] = torch.as_tensor(state["step"], dtype=torch.float64).reshape(1)
    return tensors


def restore_optimizer(prefix: str, module: torch.nn.Module, opt: torch.optim.Adam, tensors: dict) -> None:
    for i, p in enumerate(module.parameters()):
        if f"{prefix}.{i}.exp_avg" in tensors:
            opt.state[p] = {
                "exp_avg": tensors[f"{prefix}.{i}.exp_avg"].clone(),
                "exp_avg_sq": tensors[f"{prefix}.{i}.exp_avg_sq"].clone(),
                "step": torch.tensor(float(tensors[f"{prefix}.{i}.step"][0])),
            }


def save_state(path: Path, parts: Parts, g: torch.Generator, *, arch: str, config: dict, meta: dict) -> None:
    """A resumable training state: every module, its Adam moments and the data RNG."""
    tensors = {"rng": g.get_state()}
    for (name, opt_name), (module, opt) in parts.items():
        tensors.update({f"{name}.{k}": v for k, v in module.state_dict().items()})
        tensors.update(optimizer_tensors(opt_name, module, opt))
    save_checkpoint(path, tensors, arch=arch, config=config, meta=meta)


def load_state(path: Path, parts: Parts, g: torch.Generator, *, arch: str, config: dict | None = None) -> tuple[dict, dict]:
    """Restore what :func:`save_state` wrote into ``parts`` and ``g``; returns ``(config, meta)``.

    With ``config`` (the model's), a state saved for another config raises ``ValueError``
    before anything is loaded."""
    tensors, saved, meta = load_checkpoint(path, arch=arch)
    if config is not None and json.dumps(saved, sort_keys=True) != json.dumps(config, sort_keys=True):
        raise ValueError(f"{path}: state was trained with another model config")
    for (name, opt_name), (module, opt) in parts.items():
        prefix = name + "."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        restore_optimizer(opt_name, module, opt, tensors)
    g.set_state(tensors["rng"])
    return saved, meta


#: One training step: ``step(number)`` draws a batch and returns ``(loss, values)`` —
#: named floats logged beside the loss — or ``(loss, values, after)``, where ``after()``
#: runs once the model's optimizer has stepped (a discriminator's update).
Step = Callable[[int], tuple]


@dataclass(frozen=True)
class Schedule:
    """How long and how fast: ``steps`` of cosine decay from ``lr`` to ``floor × lr``, an
    evaluation, log row and checkpoint every ``eval_every`` steps (and at the end)."""

    steps: int
    lr: float
    eval_every: int
    floor: float = 0.05


def _same_options(path: Path, saved: dict | None, given: dict) -> None:
    """A resumed run goes on under the options it was started with: a different step count
    or learning rate would silently splice two cosine schedules into one run whose
    ``config.json`` then names only the second. ``ValueError`` names what differs."""
    if saved is None:  # a state written before the options were recorded
        return
    given = json.loads(json.dumps(given))
    changed = sorted(k for k in saved.keys() | given.keys() if saved.get(k) != given.get(k))
    if changed:
        listed = ", ".join(f"{k} {saved.get(k)!r} → {given.get(k)!r}" for k in changed)
        raise ValueError(f"{path}: saved under other training options ({listed}); resume with the same options or train into a new folder")


def run_loop(
    out: Path,
    *,
    parts: Parts,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    schedule: Schedule,
    step: Step,
    evaluate: Callable[[], dict[str, float]],
    state_arch: str,
    model_config: dict,
    train_config: dict,
    replica: Replica = Replica(),
    stop_at: int | None = None,
    progress: Callable[[int, dict], None] | None = None,
) -> int:
    """Train from ``out/state.safetensors`` (if there) to ``schedule.steps`` (or
    ``stop_at``); returns the step reached. Resuming gives the same weights as not stopping:
    the state holds every part's tensors and Adam moments and the data generator's state,
    and a state saved under other training options raises ``ValueError``.

    ``replica`` (:class:`kinema.train.distributed.Replica`): under torchrun, losses are
    averaged over ranks and only rank 0 evaluates and writes."""
    out = Path(out)
    state_path = out / "state.safetensors"
    number = 0
    if state_path.exists():
        _, meta = load_state(state_path, parts, generator, arch=state_arch, config=model_config)
        _same_options(state_path, meta.get("train"), train_config)
        number = int(meta["step"])
    if replica.main:
        (out / "config.json").write_text(json.dumps({"train": train_config, "model": model_config}, indent=2))
    started, running = time.perf_counter(), []
    end = schedule.steps if stop_at is None else min(schedule.steps, stop_at)
    while number < end:
        cosine_lr(optimizer, schedule.lr, number, schedule.steps, floor=schedule.floor)
        loss, values, *after = step(number)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for update in after:
            update()
        number += 1
        running.append({"loss": replica.mean(loss), **{name: replica.mean(torch.tensor(v)) for name, v in values.items()}})
        if (number % schedule.eval_every == 0 or number == end) and replica.main:
            row = {"step": number, **{k: sum(r[k] for r in running) / len(running) for k in running[0]}}
            row.update(evaluate())
            row["seconds"] = time.perf_counter() - started
            append_csv(out / "log.csv", row)
            save_state(state_path, parts, generator, arch=state_arch, config=model_config, meta={"step": number, "train": train_config, "model": model_config})
            if progress is not None:
                progress(number, row)
        if number % schedule.eval_every == 0:
            running = []
    replica.barrier()  # the state on disk is complete before any rank returns
    return number


def finish_run(
    model,
    path: Path,
    *,
    script: str,
    argv: list[str] | None,
    steps: int,
    data: list[Path],
    train: object,
    processes: int = 1,
    init: Path | None = None,
    **extra,
) -> Path:
    """Write a finished run's weights with the one metadata schema every shipped file has:
    the command, steps, processes, the training data's fingerprint, the training config,
    the starting weights (path and tensor digest) and anything ``extra``; plots the log."""
    log = path.parent / "log.csv"
    if log.is_file():
        plot_log(log, path.parent / "log.png")
    init_digest = None
    if init is not None:
        tensors, _, _ = load_checkpoint(init, arch=model.arch)
        init_digest = tensor_digest(tensors)
    meta = {
        "command": shlex.join(["python", "-m", script, *(sys.argv[1:] if argv is None else argv)]),
        "steps": steps,
        "processes": processes,
        "data_fingerprint": fingerprint(data),
        "train": dataclasses.asdict(train) if dataclasses.is_dataclass(train) else train,
        "init": None if init is None else str(init),
        # The init path may be overwritten later (shipped weights are): the digest names
        # the starting weights for good.
        "init_sha256": init_digest,
        **extra,
    }
    return model.cpu().save(path, **meta)


def best_logged(log: Path, key: str, *, lower: bool = False) -> float:
    """The best ``key`` a resumed run has logged in ``log`` (the highest, or the lowest with
    ``lower``); ∓inf for a new run, so its first evaluation is kept."""
    worst = math.inf if lower else -math.inf
    if not Path(log).is_file():
        return worst
    with Path(log).open() as handle:
        values = [float(row[key]) for row in csv.DictReader(handle) if row.get(key)]
    return (min if lower else max)(values, default=worst)


def append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def plot_log(log: Path, image: Path) -> Path | None:
    """Loss and the first validation score (``val_*``) against step as a PNG (None if
    matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = list(csv.DictReader(Path(log).open()))
    steps = [int(r["step"]) for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(steps, [float(r["loss"]) for r in rows])
    left.set(xlabel="step", ylabel="training loss", yscale="log")
    score = next((k for k in rows[0] if k.startswith("val_")), None) if rows else None
    if score is not None:
        right.plot(steps, [float(r[score]) for r in rows])
        right.set(xlabel="step", ylabel={"val_psnr": "validation PSNR (dB)"}.get(score, score.replace("_", " ")))
    fig.tight_layout()
    fig.savefig(image, dpi=100)
    plt.close(fig)
    return image


def fingerprint(paths: list[Path]) -> str:
    """sha256 over the training files' names, sizes and first MB (cheap, changes with the data)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        for f in files:
            digest.update(f"{f.name}:{f.stat().st_size}".encode())
            with f.open("rb") as handle:
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]
