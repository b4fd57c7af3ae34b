"""Sample-pool training of a texture NCA against a VGG style loss.

Read top to bottom: `train()` sets up a run directory, then each iteration
  1. samples a batch from the pool (one sample reset to the seed now and then,
     some samples damaged so the texture learns to repair),
  2. rolls it out for a random number of steps,
  3. scores the RGB channels with the style loss plus an overflow penalty,
  4. normalises each parameter's gradient, takes an Adam step,
  5. writes the batch back to the pool.
A non-finite loss is discarded (learning rate lowered, event logged), never checkpointed.
With `probe_every` set, the second part of the run probes the model's long rollouts now and
then (nca/probe.py) and `checkpoint.pt` holds the best probed weights; the latest weights,
which `--resume` continues from, live in `resume.pt`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import previews
from .checkpoint import (
    CHECKPOINT_NAME,
    RESUME_NAME,
    CheckpointError,
    atomic_save,
    cpu_copy,
    load_checkpoint,
    save_checkpoint,
    update_meta,
)
from .config import ModelConfig, TrainConfig
from .config import preset as get_preset
from .evaluate import check
from .image import image_to_tensor, load_style
from .model import NCA, fire_mask, pick_device
from .probe import probe_losses, probe_score
from .progress import progress_bar
from .runlock import LOCK_NAME, RunLockedError, run_lock
from .stepper import make_stepper
from .verdict import describe
from .vgg import StyleLoss, VGGFeatures

MAX_BAD_STEPS = 8  # consecutive non-finite losses before the run gives up
EVALUATION_NAME = "evaluation.json"  # the closing check, also in checkpoint.pt's meta["evaluation"]


class TrainingError(RuntimeError):
    """Training cannot go on; the message is one line for the user."""


@dataclass
class RunResult:
    out_dir: Path
    checkpoint: Path
    iterations: int
    final_loss: float
    wall_time: float
    status: str  # "finished" or "cancelled"
    selected_iteration: int | None = None  # the probed iteration checkpoint.pt holds (None: the last)
    evaluation: dict[str, Any] | None = None  # the closing check's figures and verdict (nca.evaluate.check)


def _damage(x: torch.Tensor, seed_state: torch.Tensor, count: int, gen: torch.Generator) -> None:
    """Reset a random disc (radius 10-40% of the grid) to the seed in the last `count` samples, in place."""
    _, _, h, w = x.shape
    yy, xx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    for i in range(x.shape[0] - count, x.shape[0]):
        cy, cx, r = torch.rand(3, generator=gen).tolist()
        radius = (0.1 + 0.3 * r) * min(h, w)
        # wrap-around distance: the grid is a torus, so discs cross edges too
        dy = torch.remainder(yy - cy * h + h / 2, h) - h / 2
        dx = torch.remainder(xx - cx * w + w / 2, w) - w / 2
        disc = (dx.square() + dy.square()) < radius * radius
        x[i][:, disc] = seed_state[0][:, disc]


def _overflow(x: torch.Tensor) -> torch.Tensor:
    return (x - x.clamp(-1.0, 1.0)).abs().mean()


def _normalise_gradients(model: NCA) -> bool:
    """g / (||g|| + 1e-8) per parameter; returns False if any gradient is not finite."""
    for p in model.parameters():
        if p.grad is None:
            continue
        if not torch.isfinite(p.grad).all():
            return False
        p.grad /= p.grad.norm() + 1e-8
    return True


def _style_to_uint8(style: torch.Tensor) -> torch.Tensor:
    return (style[0].permute(1, 2, 0).clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def train(
    style_image: str | Path | bytes,
    out_dir: str | Path,
    *,
    preset: str = "quick",
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    device: str = "auto",
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    quiet: bool = False,
    compile_step: bool | None = None,
    **overrides: Any,
) -> RunResult:
    """Train an NCA on `style_image`, writing a run directory at `out_dir`.

    Configs come from `preset` with `overrides` (any ModelConfig/TrainConfig field)
    unless given explicitly. `progress` receives a dict per iteration (and one per
    preview); `should_stop` is polled each iteration and ends the run with a checkpoint.
    With `resume=True` the run continues from `out_dir`'s last checkpoint; its configs
    win, except `iterations`, which may be raised. Only one process at a time can train
    in a run directory (nca/runlock.py).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrainingError(f"the run directory {out} is a file, not a directory")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with run_lock(out):
            return _train(style_image, out, preset=preset, model_config=model_config, train_config=train_config,
                          device=device, resume=resume, progress=progress, should_stop=should_stop, quiet=quiet,
                          compile_step=compile_step, **overrides)
    except RunLockedError as exc:
        raise TrainingError(str(exc)) from None
    finally:
        if created and not any(p.name != LOCK_NAME for p in out.iterdir()):
            shutil.rmtree(out, ignore_errors=True)  # nothing was trained: leave no empty run behind


def _train(style_image: str | Path | bytes, out: Path, *, preset: str, model_config: ModelConfig | None,
           train_config: TrainConfig | None, device: str, resume: bool,
           progress: Callable[[dict[str, Any]], None] | None, should_stop: Callable[[], bool] | None,
           quiet: bool, compile_step: bool | None, **overrides: Any) -> RunResult:
    if resume:
        model_cfg, train_cfg, start = _resume_configs(out, overrides.get("iterations"))
    else:
        pm, pt = get_preset(preset, **overrides)
        model_cfg = model_config or pm
        train_cfg = train_config or pt
        start = 0
    dev = pick_device(device)
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)

    style_img, style_hash = load_style(style_image, train_cfg.style_size)
    if resume:
        old = load_checkpoint(out / CHECKPOINT_NAME)
        if old.meta.get("style_sha256") not in (None, style_hash):
            raise TrainingError("--resume was given a different style image than the run was trained on")
    style_img.save(out / "style.png")
    style = image_to_tensor(style_img).to(dev)

    torch.manual_seed(train_cfg.seed)
    random.seed(train_cfg.seed)
    np.random.seed(train_cfg.seed)
    cpu_gen = torch.Generator().manual_seed(train_cfg.seed)
    dev_gen = torch.Generator(device=dev).manual_seed(train_cfg.seed + 1)

    model = NCA(model_cfg).to(dev)
    vgg = VGGFeatures(train_cfg.vgg_weights or None, pool=train_cfg.vgg_pool).to(dev)
    style_loss = StyleLoss(vgg, style, kind=train_cfg.loss, layer_weights=train_cfg.layer_weights,
                           balance=train_cfg.gram_balance)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_cfg.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=list(train_cfg.lr_decay_at), gamma=train_cfg.lr_decay)
    seed_state = model.seed(1, train_cfg.grid, train_cfg.grid)
    with torch.no_grad():
        pool = model.seed(train_cfg.pool_size, train_cfg.grid, train_cfg.grid,
                          noise=train_cfg.seed_noise, generator=dev_gen)
    lr_scale = 1.0
    elapsed_before = 0.0
    best: dict[str, Any] | None = None  # the best probe so far: iteration, score, losses, weights

    if resume:
        try:
            state = torch.load(out / RESUME_NAME, map_location="cpu", weights_only=True)
            # checkpoint.pt may hold an earlier, selected iteration; training goes on from the latest.
            model.load_state_dict(state.get("model", old.state_dict))
            best = state.get("best")
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            pool = state["pool"].to(dev, torch.float32)
            if pool.shape != (train_cfg.pool_size, model_cfg.channels, train_cfg.grid, train_cfg.grid):
                raise ValueError("pool of another shape")
            cpu_gen.set_state(state["cpu_rng"])
            if dev.type == "cpu":
                dev_gen.set_state(state["dev_rng"])
            lr_scale = float(state.get("lr_scale", 1.0))
            elapsed_before = float(state.get("wall_time", 0.0))
        except Exception as exc:  # noqa: BLE001 - truncated, foreign or incomplete: one message, nothing changed
            raise TrainingError(f"cannot resume: {RESUME_NAME} in {out.name} is damaged or incomplete "
                                f"({exc.__class__.__name__}); start a new run or restore the file") from None
        _truncate_metrics(out / "metrics.jsonl", start)
    else:
        (out / "metrics.jsonl").unlink(missing_ok=True)

    run_meta = {
        "style_sha256": style_hash,
        "style_name": Path(style_image).name if not isinstance(style_image, bytes) else "upload",
        "style_size": list(style_img.size),
        "device": dev.type,
        "torch_version": str(torch.__version__),
        "parameters": model_cfg.parameter_count,
    }
    style_u8 = _style_to_uint8(style)

    def checkpoint(iteration: int, last_loss: float, elapsed: float) -> None:
        meta = dict(run_meta, iterations=iteration, final_loss=last_loss, wall_time=round(elapsed, 2),
                    saved=time.strftime("%Y-%m-%dT%H:%M:%S"))
        if best is not None:
            meta.update(selected_iteration=best["iteration"], probe_losses=best["losses"])
        save_checkpoint(out / CHECKPOINT_NAME, model, train_cfg, meta, style_image=style_u8,
                        weights=best["state"] if best is not None else None)
        atomic_save({
            "iteration": iteration,
            "model": cpu_copy(model.state_dict()),
            "best": best,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "pool": pool.detach().to("cpu", torch.float16),  # half the disk; the pool is only a warm start
            "cpu_rng": cpu_gen.get_state(),
            "dev_rng": dev_gen.get_state() if dev.type == "cpu" else torch.zeros(0, dtype=torch.uint8),
            "lr_scale": lr_scale,
            "wall_time": elapsed,
        }, out / RESUME_NAME)

    if not quiet:
        print(f"NCA: {model_cfg.channels} channels, {model_cfg.hidden} hidden, "
              f"{model_cfg.parameter_count} parameters; training on {dev.type}, "
              f"grid {train_cfg.grid}, style {style_img.size[0]}x{style_img.size[1]}, loss {train_cfg.loss}",
              file=sys.stderr)

    step = make_stepper(dev, compile_step if compile_step is not None else (train_cfg.iterations - start >= 100), quiet)
    bar = progress_bar(train_cfg.iterations, initial=start, enabled=not quiet)
    metrics = (out / "metrics.jsonl").open("a")
    t0 = time.perf_counter()
    last_loss = float("nan")
    bad_in_a_row = 0
    iteration = start
    status = "finished"
    last_preview = time.perf_counter()
    try:
        while iteration < train_cfg.iterations:
            if should_stop is not None and should_stop():
                status = "cancelled"
                break
            it_start = time.perf_counter()
            idx = torch.randperm(train_cfg.pool_size, generator=cpu_gen)[: train_cfg.batch].to(dev)
            x = pool[idx].clone()
            if iteration % train_cfg.seed_reset_every == 0:
                x[:1] = seed_state
            if train_cfg.damage_samples:
                _damage(x, seed_state, train_cfg.damage_samples, cpu_gen)
            n_steps = int(torch.randint(train_cfg.steps_min, train_cfg.steps_max + 1, (1,), generator=cpu_gen))

            free_steps = max(n_steps - train_cfg.grad_steps, 0) if train_cfg.grad_steps else 0
            with torch.no_grad():
                frozen = model._fused_kernel(0.0)
                for _ in range(free_steps):
                    x = step(x, fire_mask(x, model_cfg.fire_rate, dev_gen), frozen, model.b1, model.w2)
            kernel = model._fused_kernel(0.0)
            for _ in range(n_steps - free_steps):
                x = step(x, fire_mask(x, model_cfg.fire_rate, dev_gen), kernel, model.b1, model.w2)

            rgb = x[:, :3] + 0.5  # unclamped, so gradients flow; the overflow term keeps it in range
            s_loss = style_loss(rgb, generator=cpu_gen)
            o_loss = _overflow(x)
            loss = s_loss + train_cfg.overflow_weight * o_loss

            optimizer.zero_grad(set_to_none=True)
            loss_value = float(loss.detach())
            finite = math.isfinite(loss_value)
            if finite:
                loss.backward()
                finite = _normalise_gradients(model)
            if not finite:
                # Discard the step: no optimizer update, no pool write, a lower learning rate.
                bad_in_a_row += 1
                lr_scale *= 0.5
                for group in optimizer.param_groups:
                    group["lr"] *= 0.5
                metrics.write(json.dumps({"iteration": iteration, "event": "non_finite_loss",
                                          "lr": optimizer.param_groups[0]["lr"]}) + "\n")
                metrics.flush()
                if bad_in_a_row >= MAX_BAD_STEPS:
                    raise TrainingError(
                        f"loss was not finite {bad_in_a_row} times in a row at iteration {iteration}; "
                        "try a lower --lr (the last good checkpoint is kept)")
                continue
            bad_in_a_row = 0
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                pool[idx] = x.detach()
            iteration += 1
            last_loss = loss_value

            now = time.perf_counter()
            elapsed = elapsed_before + now - t0
            rate = (iteration - start) / (now - t0) if now > t0 else 0.0
            bar.set_postfix_str(f"loss {loss_value:.4g}", refresh=False)
            bar.update(1)
            record = {"iteration": iteration, "loss": loss_value, "style": float(s_loss.detach()), "overflow": float(o_loss.detach()),
                      "lr": optimizer.param_groups[0]["lr"], "steps": n_steps, "seconds": round(now - it_start, 4),
                      "time": round(elapsed, 3)}
            metrics.write(json.dumps(record) + "\n")
            if progress is not None:
                eta = (train_cfg.iterations - iteration) / rate if rate > 0 else None
                progress(dict(record, iterations=train_cfg.iterations, it_per_s=rate, eta_s=eta))
            if _probe_due(train_cfg, iteration):
                losses = probe_losses(model, style_loss, train_cfg.grid, noise=train_cfg.seed_noise, step=step)
                score = probe_score(losses)
                kept = math.isfinite(score) and (best is None or score < best["score"])
                by_step = {str(k): v for k, v in losses.items()}  # JSON and torch.save keys
                if kept:
                    best = {"iteration": iteration, "score": score, "losses": by_step,
                            "state": cpu_copy(model.state_dict())}
                metrics.write(json.dumps({"iteration": iteration, "event": "probe", "score": score, "kept": kept,
                                          "losses": by_step}) + "\n")
            if iteration % train_cfg.checkpoint_every == 0 or iteration == train_cfg.iterations:
                metrics.flush()
                checkpoint(iteration, last_loss, elapsed)
            if iteration % train_cfg.preview_every == 0 or (progress is not None and now - last_preview > 5.0):
                last_preview = now
                path = previews.write_pool_preview(out, x.detach())
                previews.write_loss_curve(out)
                if progress is not None:
                    progress({"iteration": iteration, "preview": str(path)})
    except KeyboardInterrupt:
        if iteration > start and math.isfinite(last_loss):
            checkpoint(iteration, last_loss, elapsed_before + time.perf_counter() - t0)
        raise
    finally:
        metrics.close()
        bar.close()

    wall = elapsed_before + time.perf_counter() - t0
    if iteration > start or not (out / CHECKPOINT_NAME).exists():
        checkpoint(iteration, last_loss, wall)
    previews.write_loss_curve(out)
    if best is not None:
        model.load_state_dict(best["state"])  # the preview shows the model the run hands on
    previews.write_rollout_preview(out, model, size=2 * train_cfg.grid)
    if not quiet:
        kept = f" (kept iteration {best['iteration']}: steadiest long rollout)" if best is not None else ""
        print(f"{status}: {iteration} iterations, final loss {last_loss:.4g}, {wall:.0f} s -> {out / CHECKPOINT_NAME}{kept}",
              file=sys.stderr)
    evaluation = None
    if train_cfg.check_steps and status == "finished":
        if progress is not None:
            progress({"iteration": iteration, "phase": "evaluating"})
        evaluation = check(load_checkpoint(out / CHECKPOINT_NAME), device=dev.type, vgg=vgg)
        update_meta(out / CHECKPOINT_NAME, evaluation=evaluation)
        (out / EVALUATION_NAME).write_text(json.dumps(evaluation, indent=1) + "\n")
        if not quiet:
            ratio = evaluation["steps"][str(max(train_cfg.check_steps))]["style_ratio"]
            print(f"verdict: {describe(evaluation)} (style ratio {ratio:.4f} at step {max(train_cfg.check_steps)}; "
                  f"nca evaluate {out} for more)", file=sys.stderr)
    return RunResult(out, out / CHECKPOINT_NAME, iteration, last_loss, wall, status,
                     best["iteration"] if best is not None else None, evaluation)


def _probe_due(cfg: TrainConfig, iteration: int) -> bool:
    if not cfg.probe_every or iteration < math.ceil(cfg.probe_from * cfg.iterations):
        return False
    return iteration % cfg.probe_every == 0 or iteration == cfg.iterations


def run_progress(out: Path) -> tuple[int, int] | None:
    """(iterations done, iterations asked for) of the run in `out`; None without a readable checkpoint."""
    try:
        ckpt = load_checkpoint(out / CHECKPOINT_NAME)
        return int(ckpt.meta.get("iterations", 0)), ckpt.train_config.iterations
    except (CheckpointError, TypeError, ValueError):
        return None


def _resume_configs(out: Path, iterations: int | None) -> tuple[ModelConfig, TrainConfig, int]:
    ckpt_path = out / CHECKPOINT_NAME
    if not ckpt_path.is_file() or not (out / RESUME_NAME).is_file():
        raise TrainingError(f"nothing to resume in {out}: no {CHECKPOINT_NAME} and {RESUME_NAME}")
    try:
        ckpt = load_checkpoint(ckpt_path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from None
    train_cfg = ckpt.train_config
    if iterations is not None:
        train_cfg = dataclasses.replace(train_cfg, iterations=iterations)
    start = int(ckpt.meta.get("iterations", 0))
    if start >= train_cfg.iterations:
        raise TrainingError(f"the run in {out} already has {start} of {train_cfg.iterations} iterations; "
                            "pass a larger --iterations to continue")
    return ckpt.model_config, train_cfg, start


def _truncate_metrics(path: Path, iteration: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (they will be redone)."""
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
