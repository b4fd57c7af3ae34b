"""The packaged base models a run may start from: `--init NAME` (config.BASES).

Each is a copy of a bundled gallery model's checkpoint (nca/bases/<name>.pt), so it ships in the
wheel apart from web/ and rebuilding the gallery does not change it. Which one a run starts from
matters: walnut and gold held from pebbles but not from leopard, leaves4 from rust only, and
cc0_brick and drymud from leopard only (docs/quality-notes.md).
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import load_checkpoint
from .config import ModelConfig

BASES_DIR = Path(__file__).with_name("bases")


def base_model(name: str) -> Path:
    """The packaged checkpoint `--init NAME` starts from."""
    return BASES_DIR / f"{name}.pt"


def base_name(path: str | Path) -> str | None:
    """The base's name when `path` is one of the packaged checkpoints, else None."""
    return Path(path).stem if Path(path).parent == BASES_DIR else None


def base_shape(name: str) -> ModelConfig:
    """The model shape a run that starts from base `name` trains (it cannot change it)."""
    return load_checkpoint(base_model(name)).model_config
