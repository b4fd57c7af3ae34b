"""More tries: when a run's closing verdict is not good, train longer or from another base, keep the better.

Some images hold only after more iterations, and which base suits an image cannot be told from the
image (docs/quality-notes.md), so a preset may name a second try (`retry`): "longer" goes on from
where the run stopped to LONGER times its iterations, a base name trains again from that base.
When the better of the two is still not good, a third try: where its features came out too small,
a new run from the same start at a smaller style size (the texture at a size the model can hold),
as long as the longer try (a fine-tune of the kept model at that size drifted where a new run held);
where it drifts, a new run from a packaged base not tried yet (a new draw: going on from a model
that drifts can end at the same weights); else on from the kept model for another run's worth of
iterations. When the model kept after those drifts (its texture forms, then slowly turns into
another), a last try steadies it: it trains on with a pool so small that each state lives several
times as many steps, so the model learns from the aged texture it drifts from, in small steps that
keep the texture it has. Only the first try stops early (stop_below): the others come after a check
that was not good, so a probe that holds says too little to end them.
The run directory ends up holding the model kept; the others, complete, move to
<run>/tries/<their names>/, and the kept checkpoint's `tries` metadata lists all.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from .checkpoint import CHECKPOINT_NAME, RESUME_NAME, update_meta
from .config import BASES, TrainConfig
from .rundir import EVALUATION_NAME, METRICS_NAME
from .verdict import VERDICTS, smaller_style_size

TRIES_DIR = "tries"
LONGER = 2  # "longer" trains on to this many times the run's iterations
LONGEST = "longest"  # the third try that goes on once more
STEADY = "steady"  # the last try, for a model that drifts
# 16 states and a seed every 32 iterations: a state lives ~2400 steps in 200 iterations, 4x a `fast` run's.
STEADY_POOL = 16
STEADY_SEED_EVERY = 32
# Small steps: the texture is there, the run's own rate knocked gold's into another drift (docs/quality-notes.md).
STEADY_LR = 0.25  # times the run's learning rate
# What one training writes besides style.png and the lock.
RUN_FILES = (CHECKPOINT_NAME, RESUME_NAME, METRICS_NAME, EVALUATION_NAME, "loss.png", "preview_pool.png",
             "preview_rollout.png")


def retries(cfg: TrainConfig) -> bool:
    """Whether a run of `cfg` tries again when its verdict is not good."""
    return cfg.retry not in ("none", cfg.init)


def second_try(cfg: TrainConfig, evaluation: dict[str, Any] | None) -> str | None:
    """The second try ("longer" or a base) to train next, or None: only after a finished check whose
    verdict is not good."""
    if evaluation is None or evaluation["verdict"] == "good" or not retries(cfg):
        return None
    return cfg.retry


def rank(evaluation: dict[str, Any]) -> tuple[int, float]:
    """Smaller is better: the verdict first, then the worst style ratio of the check."""
    return VERDICTS.index(evaluation["verdict"]), max(s["style_ratio"] for s in evaluation["steps"].values())


class ThirdTry(NamedTuple):
    """What a third try trains: a new run from `init` (at `style_size`, None for the run's own), or,
    with `init` None, on from the kept model."""
    name: str  # its folder under tries/
    init: str | None
    style_size: int | None = None


def third_try(cfg: TrainConfig, kept: Try, trained_size: int, tried: tuple[Try, ...] = ()) -> ThirdTry | None:
    """After a second try: the third to train, or None. Only where the kept verdict is still not good:
    at a smaller style size where its features came out too small; from an untried packaged base where
    it drifts; else on from the kept model, which is new only from a model that already went on (from
    the first, it would repeat the second)."""
    if kept.evaluation["verdict"] == "good" or not retries(cfg):
        return None
    size = smaller_style_size(kept.evaluation, trained_size)
    if size is not None:
        return ThirdTry(f"style{size}", kept.init, size)
    base = _untried_base(kept, tried)
    if kept.evaluation["verdict"] == "drifts" and base is not None:
        return ThirdTry(base, base)
    return ThirdTry(LONGEST, None) if kept.name == "longer" else None


def _untried_base(kept: Try, tried: tuple[Try, ...]) -> str | None:
    """The first packaged base no try started from, where the kept one started from a base (the
    bases share one model shape; a run from random weights may have another)."""
    if kept.init not in BASES:
        return None
    starts = {kept.init, *(t.init for t in tried)}
    return next((b for b in BASES if b not in starts), None)


def rebased(cfg: TrainConfig, init: str) -> TrainConfig:
    """A try that trains again from the packaged base `init`: the run's own settings, without the
    first try's early stop and further tries."""
    return replace(cfg, init=init, retry="none", stop_below=0.0)


def restyled(cfg: TrainConfig, init: str, style_size: int) -> TrainConfig:
    """The smaller-style third try's settings: a new run from the kept try's start `init` at
    `style_size`, trained as long as the longer try."""
    return replace(rebased(cfg, init), style_size=style_size, iterations=cfg.iterations * LONGER)


def steady_try(cfg: TrainConfig, kept: Try) -> bool:
    """Whether the tries end with a steadying one: where the model kept drifts."""
    return retries(cfg) and kept.evaluation["verdict"] == "drifts"


def steadying(cfg: TrainConfig, style_size: int) -> TrainConfig:
    """The steadying try's settings: `cfg`'s iterations from the kept model, at the size it trained at,
    with a small pool that is seldom reset, so its states grow old, and a smaller learning rate."""
    return replace(cfg, style_size=style_size, pool_size=max(STEADY_POOL, cfg.batch),
                   seed_reset_every=STEADY_SEED_EVERY, lr=cfg.lr * STEADY_LR, retry="none", stop_below=0.0)


@dataclass(frozen=True)
class Try:
    """One finished training of a run: `name` is its folder under tries/ when it is not kept."""
    name: str  # the first try's start, then "longer" or the second start
    init: str
    iterations: int
    evaluation: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "init": self.init, "iterations": self.iterations,
                "verdict": self.evaluation["verdict"], "worst_style_ratio": round(rank(self.evaluation)[1], 6)}


def keep_better(out: Path, first: Try, second: Try, tried: tuple[Try, ...]) -> bool:
    """`first` trained in `out`, `second` in out/tries/<its name>/. Leaves the better one in `out` and
    the other in out/tries/<its name>/; True when that was the second. The checkpoint's `tries`
    lists `tried`: every try, in the order they trained."""
    second_dir = out / TRIES_DIR / second.name
    swap = rank(second.evaluation) < rank(first.evaluation)
    if swap:
        first_dir = out / TRIES_DIR / first.name
        if first_dir.exists():
            shutil.rmtree(first_dir)  # an earlier second try's leftovers
        first_dir.mkdir(parents=True)
        shutil.copy2(out / "style.png", first_dir / "style.png")
        if (second_dir / "style.png").exists():  # a try at another style size trained on its own
            os.replace(second_dir / "style.png", out / "style.png")
        for name in RUN_FILES:
            if (out / name).exists():
                os.replace(out / name, first_dir / name)
            if (second_dir / name).exists():
                os.replace(second_dir / name, out / name)
        shutil.rmtree(second_dir)
    update_meta(out / CHECKPOINT_NAME, tries=[t.summary() for t in tried])
    newest_preview(out)
    return swap


def copy_run(out: Path, where: Path) -> None:
    """The run's files in `where`, for a longer try to go on from without touching the first."""
    where.mkdir(parents=True)
    for name in (*RUN_FILES, "style.png"):
        if (out / name).exists():
            shutil.copy2(out / name, where / name)


def newest_preview(out: Path) -> None:
    """Make the run's own rollout preview the newest file of its kind: the studio shows the newest."""
    if (out / "preview_rollout.png").exists():
        os.utime(out / "preview_rollout.png")
