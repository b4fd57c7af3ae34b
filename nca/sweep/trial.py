"""One trial, wherever it runs: train (or go on training) a run, evaluate it, return its row.

Plain Python without Ray: the runner calls it inside a Ray task, tests and notebooks may call it
directly. A trial that fails for its input (an unreadable image, a run that cannot resume) returns
a failed row with the one-line reason; anything else is a bug and raises.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from ..checkpoint import CHECKPOINT_NAME, RESUME_NAME, CheckpointError, load_checkpoint
from ..config import ConfigError
from ..image import ImageError
from ..retry import retries
from ..rundir import RunDir, RunProgress, TrainingError
from .spec import Judging, Trial

STRIP_NAME = "sweep_strip.png"  # the style beside the rollouts at each judged step, for the contact sheet
STRIP_PAD = 4  # pixels between the strip's images
PID_NAME = ".trial_pid"  # the process training this run, while it trains
INPUT_ERRORS = (ImageError, ConfigError, TrainingError, CheckpointError, FileNotFoundError, IsADirectoryError,
                NotADirectoryError, PermissionError)


def run_trial(trial: Trial, run_dir: Path, judging: Judging, *, threads: int = 1, device: str = "auto") -> dict[str, Any]:
    """Train `trial` in `run_dir` (continuing a run an earlier attempt left there), evaluate it, return its row."""
    import torch

    from ..evaluate import evaluate, summary
    from ..previews import image_grid
    from ..train import train

    row: dict[str, Any] = {**trial.to_dict(), "pid": os.getpid(), "date": time.strftime("%Y-%m-%d")}
    try:
        model_cfg, train_cfg = trial.config(threads)
        if not retries(train_cfg):  # the judging below is the run's check; a second try needs the run's own
            train_cfg = dataclasses.replace(train_cfg, check_steps=())
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / PID_NAME).write_text(str(os.getpid()))
        ckpt_path = run_dir / CHECKPOINT_NAME
        done = ckpt_path.is_file() and _trained(load_checkpoint(ckpt_path).meta, train_cfg)
        if not done:
            resume = ckpt_path.is_file() and (run_dir / RESUME_NAME).is_file()
            train(trial.image, run_dir, model_config=model_cfg, train_config=train_cfg, resume=resume, quiet=True,
                  device=device, **({"iterations": train_cfg.iterations} if resume else {}))
        ckpt = load_checkpoint(ckpt_path)
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        report = evaluate(ckpt, size=judging.size, steps=judging.steps, samples=judging.samples, device=device)
        strip = image_grid([report["target"]] + [report["frames"][n] for n in judging.steps], pad=STRIP_PAD)
        strip.save(run_dir / STRIP_NAME)
        RunDir(run_dir).write_evaluation(summary(report))  # the verdict travels with the run, as after `nca train`
        row.update(status="done", train_minutes=round(ckpt.meta.get("wall_time", 0.0) / 60, 2), threads=threads,
                   iterations=ckpt.meta.get("iterations"), selected_iteration=ckpt.meta.get("selected_iteration"),
                   tries=ckpt.meta.get("tries"),
                   **summary(report), evaluate_minutes=round((time.perf_counter() - t0) / 60, 2))
    except INPUT_ERRORS as exc:
        row.update(status="failed", verdict="failed", reasons=[_one_line(exc)], error=_one_line(exc))
    finally:
        (run_dir / PID_NAME).unlink(missing_ok=True)
    return row


def run_trial_shipped(trial: Trial, judging: Judging, *, threads: int = 1, device: str = "auto") -> dict[str, Any]:
    """run_trial in a temporary directory of this node, the run directory returned as a .tar.gz in
    row["archive"]: on a cluster the driver gets the same files as a local run."""
    with tempfile.TemporaryDirectory(prefix="nca-trial-") as tmp:
        run_dir = Path(tmp) / trial.name
        row = run_trial(trial, run_dir, judging, threads=threads, device=device)
        buffer = io.BytesIO()
        if run_dir.is_dir():
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(run_dir, arcname=".")
        row["archive"] = buffer.getvalue()
    return row


def unpack(archive: bytes, run_dir: Path) -> None:
    """Put a shipped run directory in place of `run_dir` (whatever an earlier attempt left there goes)."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    if archive:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(run_dir, filter="data")


def _trained(meta: dict[str, Any], cfg) -> bool:
    """Whether the run's training is over: all its iterations or a stop at a probe that held, and its
    check when a second try hangs on it (a longer try keeps more iterations than the config's)."""
    return RunProgress.of(meta, cfg).over() and (not cfg.check_steps or "evaluation" in meta)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text
