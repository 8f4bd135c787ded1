"""Engines described, not built: small picklable recipes that build an engine on a device.

A batch sends the recipe to every worker process or Ray actor, which builds (loads the
weights of) its engine once and reuses it for every file it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from kinema.engines.base import AverageEngine, Engine
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.learned import LearnedConfig, LearnedEngine


@dataclass(frozen=True)
class LearnedSpec:
    """:class:`LearnedEngine` with the weights at ``weights`` (None: the shipped ones)."""

    weights: Path | None = None
    config: LearnedConfig = field(default_factory=LearnedConfig)

    def build(self, device: torch.device | str = "cpu") -> Engine:
        return LearnedEngine.from_file(self.weights, self.config, device=device)


@dataclass(frozen=True)
class ClassicalSpec:
    """:class:`ClassicalEngine` (optical flow on the CPU, whatever ``device``)."""

    config: ClassicalConfig = field(default_factory=ClassicalConfig)

    def build(self, device: torch.device | str = "cpu") -> Engine:
        return ClassicalEngine(self.config)


@dataclass(frozen=True)
class AverageSpec:
    """:class:`AverageEngine`: the baseline, and a no-op where no in-between is made."""

    def build(self, device: torch.device | str = "cpu") -> Engine:
        return AverageEngine()


EngineSpec = LearnedSpec | ClassicalSpec | AverageSpec
