"""Self-describing weight files: safetensors plus metadata, never pickle.

A checkpoint holds the tensors and, in the safetensors header, ``kinema.arch`` (which
model), ``kinema.config`` (its config as JSON), ``kinema.sha256`` (a digest of every
tensor's name, dtype, shape and bytes) and ``kinema.meta`` (JSON: training data
fingerprint, steps, metrics, the command that made it). Loading re-computes the digest,
so a corrupted or hand-edited file is refused instead of producing garbage frames.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Self

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from kinema.io.atomic import AtomicOutput
from kinema.types import BadInputError, ModelMismatchError


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over the tensors in name order (name, dtype, shape and raw bytes)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def save_checkpoint(path: Path, state: dict[str, torch.Tensor], *, arch: str, config: dict, meta: dict | None = None) -> Path:
    """Write ``state`` with its description to ``path`` (atomically; replaces an old file)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    header = {
        "kinema.arch": arch,
        "kinema.config": json.dumps(config, sort_keys=True),
        "kinema.sha256": tensor_digest(tensors),
        "kinema.meta": json.dumps(meta or {}, sort_keys=True),
    }
    out = AtomicOutput(Path(path), overwrite=True)
    try:
        save_file(tensors, str(out.path), metadata=header)
        return out.commit()
    finally:
        out.discard()


def load_checkpoint(path: Path, *, arch: str) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """``(tensors, config, meta)`` from a file written by :func:`save_checkpoint`.

    Raises :class:`BadInputError` for a missing, truncated or corrupted file and
    :class:`ModelMismatchError` for a file of another architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such weight file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInputError(f"{path}: not a readable safetensors file ({exc})") from None
    if header.get("kinema.arch") != arch:
        found = header.get("kinema.arch", "no kinema metadata")
        raise ModelMismatchError(f"{path}: holds weights for {found!r}, not {arch!r}")
    if header.get("kinema.sha256") != tensor_digest(tensors):
        raise BadInputError(f"{path}: tensor checksum mismatch (corrupted or modified file)")
    try:
        config, meta = json.loads(header["kinema.config"]), json.loads(header.get("kinema.meta", "{}"))
    except (KeyError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: unreadable kinema metadata ({exc})") from None
    return tensors, config, meta


def config_from_dict(cls, data: dict):
    """A frozen config dataclass ``cls`` from a checkpoint's JSON (lists become tuples);
    unknown fields raise ``ValueError`` (a newer file than this code understands)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - fields
    if unknown:
        raise ValueError(f"unknown config fields {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class ConfigDict:
    """``as_dict`` / ``from_dict`` for a frozen config dataclass, as its checkpoint stores it."""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        return config_from_dict(cls, data)


class Checkpointed:
    """``save`` / ``load`` for a module built as ``Model(config)``: the one pair every
    shipped model uses. A subclass names its ``arch`` (the file's ``kinema.arch``, bumped
    when tensors change meaning) and its ``config_class``.
    """

    arch: ClassVar[str]
    config_class: ClassVar[type[ConfigDict]]
    config: ConfigDict

    def save(self, path: Path, **meta) -> Path:
        """Write a self-describing checkpoint; ``meta`` goes into ``kinema.meta``."""
        return save_checkpoint(path, self.state_dict(), arch=self.arch, config=self.config.as_dict(), meta=meta)

    @classmethod
    def load(cls, path: Path, *, map_location: str | torch.device = "cpu") -> tuple[Self, dict]:
        """``(model, meta)`` from a checkpoint; the model is in eval mode."""
        return load_module(path, arch=cls.arch, build=lambda config: cls(cls.config_class.from_dict(config)), map_location=map_location)


def load_module(path: Path, *, arch: str, build: Callable[[dict], torch.nn.Module], map_location: str | torch.device = "cpu"):
    """``(module, meta)``: ``build(config)`` filled with the file's tensors, in eval mode.

    A config the model class rejects, or tensors that do not fit it, raise
    :class:`ModelMismatchError` naming the file.
    """
    tensors, config, meta = load_checkpoint(path, arch=arch)
    try:
        module = build(config)
        module.load_state_dict(tensors, strict=True)
    except (ValueError, TypeError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelMismatchError(f"{path}: weights do not fit the {arch} model ({first})") from None
    return module.to(map_location).eval(), meta
