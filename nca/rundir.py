"""A run directory: everything one training writes, and what a resumed training reads back.

    checkpoint.pt    the weights the run hands on (the selected ones when it probes) + configs + meta
    resume.pt        the latest weights, optimizer, pool and random streams: what --resume continues
    metrics.jsonl    one line per iteration, probe or event
    style.png        the style image as training sees it
    evaluation.json  the closing check's figures and verdict
    loss.png, preview_*.png
    tries/<start>/   a run from another start that was not kept (nca/retry.py)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, NamedTuple

import torch

from .checkpoint import (
    CHECKPOINT_NAME,
    RESUME_NAME,
    Checkpoint,
    CheckpointError,
    atomic_save,
    load_checkpoint,
    update_meta,
)
from .config import ModelConfig, TrainConfig, cli_options

EVALUATION_NAME = "evaluation.json"  # the closing check, also in checkpoint.pt's meta["evaluation"]
METRICS_NAME = "metrics.jsonl"
FLAGS = {name: flag for flag, name, _ in cli_options()}


class TrainingError(RuntimeError):
    """Training cannot go on; the message is one line for the user."""


class RunDir:
    def __init__(self, path: Path):
        self.path = path
        self.checkpoint = path / CHECKPOINT_NAME
        self.resume_file = path / RESUME_NAME
        self.metrics = path / METRICS_NAME
        self.resumed: Checkpoint | None = None  # checkpoint.pt as resume_settings read it

    def resume_settings(self, overrides: dict[str, Any]) -> tuple[ModelConfig, TrainConfig, int]:
        """(configs, iterations done) to go on with. A resumed run keeps its settings: only
        `iterations` may change (to go further); any other override must equal the run's own."""
        if not self.checkpoint.is_file() or not self.resume_file.is_file():
            raise TrainingError(f"nothing to resume in {self.path}: no {CHECKPOINT_NAME} and {RESUME_NAME}")
        try:
            ckpt = self.resumed = load_checkpoint(self.checkpoint)
        except CheckpointError as exc:
            raise TrainingError(str(exc)) from None
        model_cfg, train_cfg = ckpt.model_config, ckpt.train_config
        stored = {**dataclasses.asdict(model_cfg), **dataclasses.asdict(train_cfg)}
        changed = sorted(k for k, v in overrides.items() if k != "iterations" and v is not None and stored.get(k) != v)
        if changed:
            names = ", ".join(FLAGS.get(k, k) for k in changed)
            raise TrainingError(f"--resume keeps the run's settings; drop {names}")
        if overrides.get("iterations") is not None:
            train_cfg = dataclasses.replace(train_cfg, iterations=overrides["iterations"])
        start = int(ckpt.meta.get("iterations", 0))
        if start >= train_cfg.iterations:
            raise TrainingError(f"the run in {self.path} already has {start} of {train_cfg.iterations} iterations; "
                                "pass a larger --iterations to continue")
        return model_cfg, train_cfg, start

    def check_style(self, style_hash: str) -> None:
        """After resume_settings: the style given now must be the one the run was trained on."""
        if self.resumed.meta.get("style_sha256") not in (None, style_hash):
            raise TrainingError("--resume was given a different style image than the run was trained on")

    def load_resume(self) -> dict[str, Any]:
        try:
            return torch.load(self.resume_file, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - truncated, foreign or incomplete: one message, nothing changed
            raise self.damaged(exc) from None

    def damaged(self, exc: BaseException) -> TrainingError:
        return TrainingError(f"cannot resume: {RESUME_NAME} in {self.path.name} is damaged or incomplete "
                             f"({exc.__class__.__name__}); start a new run or restore the file")

    def open_metrics(self, start: int, resume: bool):
        """The metrics log to append to: on resume, the lines after the checkpoint are dropped (they
        will be redone); a new run starts an empty one."""
        if resume:
            _truncate_metrics(self.metrics, start)
        else:
            self.metrics.unlink(missing_ok=True)
        return self.metrics.open("a")

    def save_resume(self, state: dict[str, Any]) -> None:
        atomic_save(state, self.resume_file)

    def write_evaluation(self, evaluation: dict[str, Any]) -> None:
        update_meta(self.checkpoint, evaluation=evaluation)
        (self.path / EVALUATION_NAME).write_text(json.dumps(evaluation, indent=1) + "\n")


class RunProgress(NamedTuple):
    done: int  # iterations trained
    asked: int  # iterations the run was asked for
    stopped_early: bool  # it ended before `asked`, at a probe that held: it is over all the same

    @classmethod
    def of(cls, meta: dict[str, Any], cfg: TrainConfig) -> RunProgress:
        """From a checkpoint's metadata and training config."""
        return cls(int(meta.get("iterations", 0)), cfg.iterations, bool(meta.get("stopped_early", False)))

    def over(self, wanted: int | None = None) -> bool:
        """Whether training is over: `wanted` iterations trained (the run's own when None), or a stop at a probe."""
        return self.stopped_early or self.done >= (wanted or self.asked)


def run_progress(out: Path) -> RunProgress | None:
    """How far the run in `out` got; None without a readable checkpoint."""
    try:
        ckpt = load_checkpoint(out / CHECKPOINT_NAME)
        return RunProgress.of(ckpt.meta, ckpt.train_config)
    except (CheckpointError, TypeError, ValueError):
        return None


def _truncate_metrics(path: Path, iteration: int) -> None:
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("iteration", 0) <= iteration:
                keep.append(line)
        except json.JSONDecodeError:
            break  # a torn last line from a kill
    path.write_text("".join(k + "\n" for k in keep))
