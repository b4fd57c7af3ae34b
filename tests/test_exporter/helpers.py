"""Checkpoints the exporter tests export: formula weights for the golden files, small random ones."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from nca.checkpoint import Checkpoint
from nca.config import ModelConfig, TrainConfig
from tests.conftest import write_checkpoint

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("NCA_UPDATE_GOLDEN") == "1"


def tiny_checkpoint(channels: int = 4, hidden: int = 6) -> Checkpoint:
    """Weights from a formula, not an RNG: the golden files must not depend on torch's RNG.
    Sevenths and seventeenths are not exact in binary, so they exercise exact printing."""
    cfg = ModelConfig(channels=channels, hidden=hidden)
    h, c4 = np.meshgrid(np.arange(hidden), np.arange(4 * channels), indexing="ij")
    w1 = ((h * 7 + c4 * 3) % 11 - 5) / 17.0
    b1 = (np.arange(hidden) % 5 - 2) / 7.0
    w2 = ((np.arange(channels)[:, None] * 5 + np.arange(hidden)[None, :] * 2) % 9 - 4) / 70.0
    w2[0, 0] = 0.0  # one zero weight, and -0.0 elsewhere would still print "0.0"
    state = {k: torch.tensor(v, dtype=torch.float32) for k, v in (("w1", w1), ("b1", b1), ("w2", w2))}
    return Checkpoint(cfg, TrainConfig(), state, {})


def small_checkpoint(path: Path, channels: int = 8, hidden: int = 16, seed: int = 0) -> Path:
    return write_checkpoint(path, channels=channels, hidden=hidden, seed=seed,
                            meta={"style_sha256": "ab" * 32, "iterations": 7, "final_loss": 1.5})


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []
