"""A second start: when a run from one packaged base is not good, train again from another, keep the better.

Which base suits an image cannot be told from the image (docs/quality-notes.md), so a preset may name
a second start (`retry_init`). The run directory ends up holding the model kept; the other run,
complete, moves to <run>/tries/<its start>/, and the kept checkpoint's `tries` metadata lists both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .checkpoint import CHECKPOINT_NAME, RESUME_NAME, update_meta
from .config import TrainConfig
from .rundir import EVALUATION_NAME, METRICS_NAME
from .verdict import VERDICTS

TRIES_DIR = "tries"
# What one training writes besides style.png (the same for both starts) and the lock.
RUN_FILES = (CHECKPOINT_NAME, RESUME_NAME, METRICS_NAME, EVALUATION_NAME, "loss.png", "preview_pool.png",
             "preview_rollout.png")


def retries(cfg: TrainConfig) -> bool:
    """Whether a run of `cfg` trains again from another start when its verdict is not good."""
    return cfg.retry_init not in ("none", cfg.init)


def second_start(cfg: TrainConfig, evaluation: dict[str, Any] | None) -> str | None:
    """The base to train from next, or None: only after a finished check whose verdict is not good."""
    if evaluation is None or evaluation["verdict"] == "good" or not retries(cfg):
        return None
    return cfg.retry_init


def rank(evaluation: dict[str, Any]) -> tuple[int, float]:
    """Smaller is better: the verdict first, then the worst style ratio of the check."""
    return VERDICTS.index(evaluation["verdict"]), max(s["style_ratio"] for s in evaluation["steps"].values())


def summary(init: str, evaluation: dict[str, Any]) -> dict[str, Any]:
    return {"init": init, "verdict": evaluation["verdict"], "worst_style_ratio": round(rank(evaluation)[1], 6)}


def keep_better(out: Path, first: tuple[str, dict[str, Any]], second: tuple[str, dict[str, Any]]) -> bool:
    """`first` (start, evaluation) trained in `out`, `second` in out/tries/<start>/. Leaves the better
    one in `out` and the other in out/tries/<its start>/; True when that was the second."""
    (first_init, first_eval), (second_init, second_eval) = first, second
    second_dir = out / TRIES_DIR / second_init
    swap = rank(second_eval) < rank(first_eval)
    if swap:
        first_dir = out / TRIES_DIR / first_init
        if first_dir.exists():
            shutil.rmtree(first_dir)  # an earlier second start's leftovers
        first_dir.mkdir(parents=True)
        shutil.copy2(out / "style.png", first_dir / "style.png")
        for name in RUN_FILES:
            if (out / name).exists():
                os.replace(out / name, first_dir / name)
            if (second_dir / name).exists():
                os.replace(second_dir / name, out / name)
        shutil.rmtree(second_dir)
    update_meta(out / CHECKPOINT_NAME, tries=[summary(*first), summary(*second)])
    newest_preview(out)
    return swap


def newest_preview(out: Path) -> None:
    """Make the run's own rollout preview the newest file of its kind: the studio shows the newest."""
    if (out / "preview_rollout.png").exists():
        os.utime(out / "preview_rollout.png")
