"""Pieces every training script shares: optimizer state in checkpoints, the learning-rate
schedule, the CSV log and its plot."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import torch

from kinema.models.checkpoint import load_checkpoint, save_checkpoint

#: What a resumable state holds: ``{(module name, optimizer name): (module, optimizer)}``.
Parts = dict[tuple[str, str], tuple[torch.nn.Module, torch.optim.Adam]]


def cosine_lr(opt: torch.optim.Optimizer, base: float, step: int, total: int, floor: float = 0.05) -> None:
    """Cosine decay from ``base`` to ``floor × base`` over ``total`` steps."""
    for group in opt.param_groups:
        group["lr"] = base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / total)))


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


def append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def plot_log(log: Path, image: Path) -> Path | None:
    """Loss and validation PSNR against step as a PNG (None if matplotlib is missing)."""
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
    right.plot(steps, [float(r["val_psnr"]) for r in rows])
    right.set(xlabel="step", ylabel="validation PSNR (dB)")
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
