"""Checkpoint selection: probe the model's long rollouts now and then, keep the steadiest weights.

Checkpoints a hundred iterations apart can fit the style equally well and still differ in what
they grow by step 2000 (nca/probe.py). From `probe_from` of the run on, every `probe_every`
iterations (and at the last) the model is probed; the run hands on the weights whose probe_score
is lowest. Without probing the last weights are the ones handed on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .checkpoint import cpu_copy
from .config import TrainConfig
from .model import NCA
from .probe import probe_losses, probe_score
from .vgg import StyleLoss


class CheckpointSelection:
    def __init__(self, cfg: TrainConfig, best: dict[str, Any] | None = None):
        self.cfg = cfg
        self.best = best  # iteration, score, losses (by step, str keys), state (CPU weights)

    def due(self, iteration: int) -> bool:
        cfg = self.cfg
        if not cfg.probe_every or iteration < math.ceil(cfg.probe_from * cfg.iterations):
            return False
        return iteration % cfg.probe_every == 0 or iteration == cfg.iterations

    def probe(self, iteration: int, model: NCA, style_loss: StyleLoss, step: Callable) -> dict[str, Any]:
        """Probe `model`, keep it if it is the best so far; returns the metrics event."""
        losses = probe_losses(model, style_loss, self.cfg.grid, noise=self.cfg.seed_noise, step=step)
        score = probe_score(losses)
        kept = math.isfinite(score) and (self.best is None or score < self.best["score"])
        by_step = {str(k): v for k, v in losses.items()}  # JSON and torch.save keys
        if kept:
            self.best = {"iteration": iteration, "score": score, "losses": by_step,
                         "state": cpu_copy(model.state_dict())}
        return {"iteration": iteration, "event": "probe", "score": score, "kept": kept, "losses": by_step}

    @property
    def weights(self) -> dict | None:
        """The weights to hand on, or None for the model's own (nothing probed yet)."""
        return self.best["state"] if self.best is not None else None

    @property
    def iteration(self) -> int | None:
        return self.best["iteration"] if self.best is not None else None

    def meta(self) -> dict[str, Any]:
        """What checkpoint.pt's meta says about the selection."""
        if self.best is None:
            return {}
        return {"selected_iteration": self.best["iteration"], "probe_losses": self.best["losses"]}
