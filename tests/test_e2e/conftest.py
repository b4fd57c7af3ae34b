"""Fixtures shared by the browser tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from exporter import export
from tests.conftest import random_model, write_checkpoint


@pytest.fixture
def bundle_of(tmp_path):
    """Export a random model whose 50-step rollout stays in the range trained models live in
    (|x| of a few units): conftest's default w2 scale makes a 12/96 model blow up to ~500,
    where float32 rounding alone is 1e-4. Scale 0.1/sqrt(hidden) keeps |x| <~ 3."""

    def _bundle(channels: int, hidden: int, seed: int = 0) -> tuple[Path, Path]:
        model = random_model(channels, hidden, seed, scale=0.1 / math.sqrt(hidden))
        ckpt = tmp_path / f"run-{channels}-{hidden}-{seed}" / "checkpoint.pt"
        write_checkpoint(ckpt, model, meta={"iterations": 0})
        return ckpt, export(ckpt, tmp_path / "bundles", thumbnail_steps=2)

    return _bundle
