"""Sample-pool training of a texture NCA against a VGG style loss.

Read top to bottom: `train()` sets up a run directory (nca/rundir.py), then each iteration
  1. samples a batch from the pool (nca/pool.py: one sample reset to the seed now and then,
     some samples damaged so the texture learns to repair),
  2. rolls it out for a random number of steps,
  3. scores the RGB channels with the style loss plus an overflow penalty,
  4. normalises each parameter's gradient, takes an Adam step,
  5. writes the batch back to the pool.
A non-finite loss is discarded (learning rate lowered, event logged), never checkpointed.
With `probe_every` set, checkpoint.pt holds the best probed weights (nca/selection.py); the
latest weights, which `--resume` continues from, live in resume.pt. With `stop_below` set, the run
ends at the first probe that scores at most that. The run ends with a short evaluation and its
verdict (nca/evaluate.py).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import previews
from .bases import base_model, base_name
from .checkpoint import (
    CHECKPOINT_NAME,
    Checkpoint,
    CheckpointError,
    cpu_copy,
    load_checkpoint,
    save_checkpoint,
    update_meta,
)
from .config import BASES, DEFAULT_PRESET, ModelConfig, TrainConfig
from .config import preset as get_preset
from .evaluate import check
from .image import image_to_tensor, load_style, scaled_style
from .model import NCA, fire_mask, pick_device
from .pool import SamplePool
from .precision import autocast, training_dtype
from .progress import progress_bar
from .retry import (
    LONGER,
    STEADY,
    TRIES_DIR,
    ThirdTry,
    Try,
    copy_run,
    keep_better,
    newest_preview,
    rebased,
    restyled,
    second_try,
    steady_try,
    steadying,
    third_try,
)
from .rundir import FLAGS, RunDir, TrainingError
from .runlock import LOCK_NAME, RunLockedError, run_lock
from .selection import CheckpointSelection
from .stepper import make_stepper
from .verdict import describe, smaller_style_size
from .vgg import StyleLoss, VGGFeatures

MAX_BAD_STEPS = 8  # consecutive non-finite losses before the run gives up


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
    preset: str = DEFAULT_PRESET,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    device: str = "auto",
    resume: bool = False,
    init_from: str | Path | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    quiet: bool = False,
    compile_step: bool | None = None,
    **overrides: Any,
) -> RunResult:
    """Train an NCA on `style_image`, writing a run directory at `out_dir`.

    Configs come from `preset` with `overrides` (any ModelConfig/TrainConfig field)
    unless given explicitly. `progress` receives a dict per iteration, whose `snapshot(path)`
    writes the current weights as a checkpoint (a live view of the run), one per preview and
    one per phase ({"phase": "loading" | "compiling" | "probing" | "training" | "evaluating"});
    `should_stop` is polled each iteration and ends the run with a checkpoint.
    With `resume=True` the run continues from `out_dir`'s last checkpoint; its configs
    win, except `iterations`, which may be raised. With `init_from` (a checkpoint, run directory
    or model bundle) a new run starts from that model's weights and architecture (its ModelConfig;
    a model option that contradicts it is refused); all else is a new run's. Only one process at a
    time can train in a run directory (nca/runlock.py).
    """
    if init_from is not None and resume:
        raise TrainingError("--init-from starts a new run and --resume continues one: pass only one of them")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TrainingError(f"the run directory {out} is a file, not a directory")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with run_lock(out):
            result = _train(style_image, out, preset=preset, model_config=model_config, train_config=train_config,
                            device=device, resume=resume, init_from=init_from, progress=progress,
                            should_stop=should_stop, quiet=quiet,
                            compile_step=compile_step, **overrides)
            cfg = load_checkpoint(result.checkpoint).train_config
            again = second_try(cfg, result.evaluation)
            tries = {"preset": preset, "device": device, "progress": progress, "should_stop": should_stop,
                     "quiet": quiet, "compile_step": compile_step}
            if again is not None and not _stopped(should_stop):
                result = _more_tries(style_image, out, result, cfg, again, **tries)
            if not quiet and result.evaluation and result.evaluation["verdict"] != "good":
                _print_hints(result.evaluation, load_checkpoint(result.checkpoint))
            return result
    except RunLockedError as exc:
        raise TrainingError(str(exc)) from None
    finally:
        if created and not any(p.name != LOCK_NAME for p in out.iterdir()):
            shutil.rmtree(out, ignore_errors=True)  # nothing was trained: leave no empty run behind


def _more_tries(style_image: str | Path | bytes, out: Path, first: RunResult, cfg: TrainConfig, again: str,
                **run: Any) -> RunResult:
    """After a first try that is not good: the second, then a third and a steadying one where the
    model kept so far calls for them (nca/retry.py); the best of all ends in `out`."""
    result, kept, tried = _second_try(style_image, out, first, cfg, again, **run)
    third = third_try(cfg, kept, _trained_size(load_checkpoint(result.checkpoint)), tried)
    if len(tried) == 2 and third is not None and not _stopped(run["should_stop"]):
        result, kept, tried = _third_try(style_image, out, result, kept, tried, cfg, third, **run)
    if len(tried) >= 2 and steady_try(cfg, kept) and not _stopped(run["should_stop"]):
        size = _trained_size(load_checkpoint(result.checkpoint))
        result, kept, tried = _from_kept(style_image, out, result, kept, tried, steadying(cfg, size), STEADY,
                                         "training on with old states from the kept model: it drifts", **run)
    return result


def _stopped(should_stop: Callable[[], bool] | None) -> bool:
    return should_stop is not None and should_stop()


def _trained_size(final: Checkpoint) -> int:
    """The style size a run trained at: a style image smaller than style_size is trained at its own size."""
    if final.style_image is None:
        return final.train_config.style_size
    return min(final.train_config.style_size, max(final.style_image.shape[:2]))


def _print_hints(evaluation: dict[str, Any], final: Checkpoint) -> None:
    """After a verdict that is not good: the packaged starts not tried yet, and for features too
    small, the style size at which the model may hold them."""
    tried = list(dict.fromkeys(t["init"] for t in final.meta.get("tries", []))) \
        or [final.meta.get("init_from", {}).get("path")]
    if tried[0] in BASES:
        # Which start suits an image is not predictable from it (docs/quality-notes.md): name the others.
        others = ", ".join(f"--init {b}" for b in BASES if b not in tried)
        print(f"another start may hold where {' and '.join(tried)} did not: {others}", file=sys.stderr)
    style_size = _trained_size(final)
    size = smaller_style_size(evaluation, style_size)
    if size is not None:  # a smaller style made leaves4 and ice good (docs/quality-notes.md)
        print(f"its features came out too small: --style-size {size} (trained at {style_size}) trains the texture "
              "at a size the model can hold", file=sys.stderr)


def _second_try(style_image: str | Path | bytes, out: Path, first: RunResult, cfg: TrainConfig, again: str,
                **run: Any) -> tuple[RunResult, Try, tuple[Try, ...]]:
    """Train on to LONGER times the iterations (again = "longer") or from the packaged base `again`, in
    out/tries/<again>/, and keep the better run in `out`: (it, its try, the tries so far)."""
    longer = again == "longer"
    what = f"training on to {cfg.iterations * LONGER} iterations" if longer else f"training again from the {again} base"
    first_try = Try(cfg.init, cfg.init, first.iterations, first.evaluation)
    if longer:
        settings = {"model_config": None, "train_config": None, "resume": True, "iterations": cfg.iterations * LONGER}
    else:
        settings = {"model_config": None, "train_config": rebased(cfg, again), "resume": False}
    return _another_try(style_image, out, first, first_try, (first_try,), again, cfg.init if longer else again,
                        settings, f"{what}: the first try is {first.evaluation['verdict']}", **run)


def _third_try(style_image: str | Path | bytes, out: Path, kept: RunResult, kept_try: Try, tried: tuple[Try, ...],
               cfg: TrainConfig, third: ThirdTry, **run: Any) -> tuple[RunResult, Try, tuple[Try, ...]]:
    """After two tries, the better of which is still not good: train `third` (nca/retry.py third_try);
    keep the best of all in `out`."""
    verdict = kept.evaluation["verdict"]
    if third.init is None:
        settings = {"model_config": None, "train_config": None, "resume": True,
                    "iterations": kept.iterations + cfg.iterations}
        what = f"training on to {kept.iterations + cfg.iterations} iterations: the kept try is {verdict}"
        return _another_try(style_image, out, kept, kept_try, tried, third.name, kept_try.init, settings, what, **run)
    if third.style_size is not None:
        train_cfg = restyled(cfg, third.init, third.style_size)
        what = (f"training again from the {third.init} start at style size {third.style_size}: the kept try is "
                f"{verdict}, its features too small")
    else:
        train_cfg = rebased(cfg, third.init)
        what = f"training again from the {third.init} base: the kept try {verdict}"
    settings = {"model_config": None, "train_config": train_cfg, "resume": False}
    return _another_try(style_image, out, kept, kept_try, tried, third.name, third.init, settings, what, **run)


def _from_kept(style_image: str | Path | bytes, out: Path, kept: RunResult, kept_try: Try, tried: tuple[Try, ...],
               train_cfg: TrainConfig, name: str, what: str, **run: Any) -> tuple[RunResult, Try, tuple[Try, ...]]:
    """A new run of `train_cfg` that starts from the kept model's weights, in out/tries/<name>/; keep the better."""
    settings = {"model_config": None, "train_config": train_cfg, "resume": False, "init_from": out / CHECKPOINT_NAME}
    result, now, tried = _another_try(style_image, out, kept, kept_try, tried, name, kept_try.init, settings, what,
                                      **run)
    if now.name == name:  # the model it started from moved to tries/<its name>/
        start = load_checkpoint(out / CHECKPOINT_NAME).meta["init_from"]
        update_meta(out / CHECKPOINT_NAME, init_from={**start, "path": str(out / TRIES_DIR / kept_try.name)})
    return result, now, tried


def _another_try(style_image: str | Path | bytes, out: Path, kept: RunResult, kept_try: Try, tried: tuple[Try, ...],
                 name: str, init: str, settings: dict[str, Any], what: str,
                 **run: Any) -> tuple[RunResult, Try, tuple[Try, ...]]:
    """Train `settings` in out/tries/<name>/ (going on from `kept`'s files when they resume), keep the
    better of that and `kept` in `out`: (it, its try, `tried` and the new one)."""
    goes_on = settings["resume"]
    if not run["quiet"]:
        print(what, file=sys.stderr)
    # The bar restarts from the iteration the try starts at: on from the kept run's end, or 0.
    _say(run["progress"], kept.iterations if goes_on else 0, "retrying")
    where = out / TRIES_DIR / name
    if where.exists():
        shutil.rmtree(where)  # an earlier try's leftovers
    if goes_on:
        copy_run(out, where)
    else:
        where.mkdir(parents=True)
    settings = {"init_from": None, **settings}
    try:
        new = _train(style_image, where, **settings, **run)
    except Exception as exc:  # noqa: BLE001 - the kept run is whole: hand it on rather than lose the job to this one
        if not run["quiet"]:
            print(f"the {name} try failed ({exc}); keeping the run before it", file=sys.stderr)
        newest_preview(out)
        return kept, kept_try, tried
    if new.status != "finished" or new.evaluation is None:
        newest_preview(out)
        return kept, kept_try, tried  # cancelled: the kept run stays, the new one's partial run stays in tries/
    new_try = Try(name, init, new.iterations, new.evaluation)
    tried = (*tried, new_try)
    swap = keep_better(out, kept_try, new_try, tried)
    now, now_try = (new, new_try) if swap else (kept, kept_try)
    if not run["quiet"]:
        print(f"kept the {now_try.name} try (verdict {now.evaluation['verdict']}, {now.iterations} iterations); "
              f"the other {'runs are' if len(tried) > 2 else 'run is'} in {out / TRIES_DIR}", file=sys.stderr)
    # A run that goes on already counts the time before it (a resumed run adds on); a new one adds to it.
    wall = new.wall_time if goes_on else kept.wall_time + new.wall_time
    update_meta(out / CHECKPOINT_NAME, wall_time=round(wall, 2))  # the model kept took all the tries' time
    return replace(now, out_dir=out, checkpoint=out / CHECKPOINT_NAME, wall_time=wall), now_try, tried


def _train(style_image: str | Path | bytes, out: Path, *, preset: str, model_config: ModelConfig | None,
           train_config: TrainConfig | None, device: str, resume: bool, init_from: str | Path | None,
           progress: Callable[[dict[str, Any]], None] | None, should_stop: Callable[[], bool] | None,
           quiet: bool, compile_step: bool | None, **overrides: Any) -> RunResult:
    run = RunDir(out)
    if resume:
        model_cfg, train_cfg, start = run.resume_settings(overrides)
        train_cfg = replace(train_cfg, stop_below=0.0)  # going on asks for the iterations, stopped early or not
    else:
        pm, pt = get_preset(preset, **overrides)
        model_cfg, train_cfg, start = model_config or pm, train_config or pt, 0
    if init_from is not None and not resume:  # the user's own start: a packaged second one would not compare
        train_cfg = replace(train_cfg, retry="none")
    if init_from is None and not resume and train_cfg.init != "random":
        init_from = base_model(train_cfg.init)
    source = _init_source(init_from, model_config, overrides) if init_from is not None else None
    if source is not None:
        model_cfg = source.model_config
    dev = pick_device(device)
    dtype = training_dtype(train_cfg.precision, dev)
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    style_img, style_hash = load_style(style_image, train_cfg.style_size)
    if resume:
        run.check_style(style_hash)
    style_img.save(out / "style.png")
    style = image_to_tensor(style_img).to(dev)

    torch.manual_seed(train_cfg.seed)
    random.seed(train_cfg.seed)
    np.random.seed(train_cfg.seed)
    cpu_gen = torch.Generator().manual_seed(train_cfg.seed)
    dev_gen = torch.Generator(device=dev).manual_seed(train_cfg.seed + 1)
    model = NCA(model_cfg).to(dev)
    if source is not None:
        model.load_state_dict(source.state_dict)  # after the seeded init, so all else matches a new run
    _say(progress, start, "loading")  # the VGG weights and the style's target features
    vgg = VGGFeatures(train_cfg.vgg_weights or None, pool=train_cfg.vgg_pool).to(dev)
    style_loss = StyleLoss(vgg, style, kind=train_cfg.loss, layer_weights=train_cfg.layer_weights,
                           balance=train_cfg.gram_balance)
    scaled = _scaled_losses(vgg, style_img, style_loss, train_cfg, dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_cfg.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=list(train_cfg.lr_decay_at), gamma=train_cfg.lr_decay)
    pool = SamplePool(model, train_cfg, dev_gen)
    selection = CheckpointSelection(train_cfg)
    state = _State()
    if resume:
        _restore(run, state, model, optimizer, scheduler, pool, selection, cpu_gen, dev_gen, dev)

    run_meta = {
        "style_sha256": style_hash,
        "style_name": Path(style_image).name if not isinstance(style_image, bytes) else "upload",
        "style_size": list(style_img.size),
        "device": dev.type,
        "precision": str(dtype).removeprefix("torch."),
        "torch_version": str(torch.__version__),
        "parameters": model_cfg.parameter_count,
    }
    # Where the weights started: the source as given and its style; a resumed run keeps its record.
    if source is not None:
        run_meta["init_from"] = {"path": base_name(init_from) or str(init_from),
                                 **{k: source.meta[k] for k in ("style_name", "style_sha256") if k in source.meta}}
    elif resume and "init_from" in run.resumed.meta:
        run_meta["init_from"] = run.resumed.meta["init_from"]
    style_u8 = _style_to_uint8(style)

    def save(iteration: int, elapsed: float) -> None:
        meta = dict(run_meta, iterations=iteration, final_loss=state.last_loss, wall_time=round(elapsed, 2),
                    saved=time.strftime("%Y-%m-%dT%H:%M:%S"), **selection.meta())
        save_checkpoint(run.checkpoint, model, train_cfg, meta, style_image=style_u8, weights=selection.weights)
        run.save_resume({
            "iteration": iteration,
            "model": cpu_copy(model.state_dict()),
            "best": selection.best,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "pool": pool.states.detach().to("cpu", torch.float16),  # half the disk; the pool is only a warm start
            "cpu_rng": cpu_gen.get_state(),
            "dev_rng": dev_gen.get_state() if dev.type == "cpu" else torch.zeros(0, dtype=torch.uint8),
            "lr_scale": state.lr_scale,
            "wall_time": elapsed,
        })

    def snapshot(path: Path) -> None:
        """The current (not the selected) weights as a checkpoint file; changes nothing in the run."""
        save_checkpoint(path, model, train_cfg, dict(run_meta, iterations=iteration, final_loss=state.last_loss),
                        style_image=style_u8)

    if not quiet:
        print(f"NCA: {model_cfg.channels} channels, {model_cfg.hidden} hidden, "
              f"{model_cfg.parameter_count} parameters; training on {dev.type} "
              f"({run_meta['precision']}), "
              f"grid {train_cfg.grid}, style {style_img.size[0]}x{style_img.size[1]}, loss {train_cfg.loss}",
              file=sys.stderr)

    step = make_stepper(dev, compile_step if compile_step is not None else (train_cfg.iterations - start >= 100), quiet,
                       dtype)
    bar = progress_bar(train_cfg.iterations, initial=start, enabled=not quiet)
    metrics = run.open_metrics(start, resume)
    t0 = time.perf_counter()
    iteration, status, last_preview = start, "finished", t0
    _say(progress, start, "compiling")  # until the first iteration is done (torch.compile, warm-up)
    try:
        while iteration < train_cfg.iterations:
            if should_stop is not None and should_stop():
                status = "cancelled"
                break
            it_start = time.perf_counter()
            idx, x = pool.sample(iteration, cpu_gen)
            n_steps = int(torch.randint(train_cfg.steps_min, train_cfg.steps_max + 1, (1,), generator=cpu_gen))
            # Drawn only when training for several scales, so other runs keep their random streams.
            pick = int(torch.randint(len(scaled), (1,), generator=cpu_gen)) if len(scaled) > 1 else 0
            k, k_loss = scaled[pick]
            x = _rollout(model, x, n_steps, train_cfg, step, dev_gen, scale=k)
            rgb = x[:, :3] + 0.5  # unclamped, so gradients flow; the overflow term keeps it in range
            with autocast(dev, dtype):
                s_loss = k_loss(rgb, generator=cpu_gen)
            o_loss = _overflow(x)
            loss = s_loss + train_cfg.overflow_weight * o_loss
            if not _learn(loss, model, optimizer):
                _discard_step(state, optimizer, iteration, metrics)
                continue
            state.bad_in_a_row = 0
            scheduler.step()
            pool.write_back(idx, x)
            iteration += 1
            state.last_loss = float(loss.detach())

            now = time.perf_counter()
            elapsed = state.elapsed_before + now - t0
            rate = (iteration - start) / (now - t0) if now > t0 else 0.0
            bar.set_postfix_str(f"loss {state.last_loss:.4g}", refresh=False)
            bar.update(1)
            record = {"iteration": iteration, "loss": state.last_loss, "style": float(s_loss.detach()),
                      "overflow": float(o_loss.detach()), "lr": optimizer.param_groups[0]["lr"], "steps": n_steps,
                      "seconds": round(now - it_start, 4), "time": round(elapsed, 3)}
            if len(scaled) > 1:
                record["scale"] = round(k, 4)
            metrics.write(json.dumps(record) + "\n")
            if progress is not None:
                eta = (train_cfg.iterations - iteration) / rate if rate > 0 else None
                progress(dict(record, iterations=train_cfg.iterations, it_per_s=rate, eta_s=eta,
                              snapshot=snapshot))
            if selection.due(iteration):
                _say(progress, iteration, "probing")
                probed = selection.probe(iteration, model, style_loss, step)
                metrics.write(json.dumps(probed) + "\n")
                if train_cfg.stop_below and probed["score"] <= train_cfg.stop_below and iteration < train_cfg.iterations:
                    run_meta["stopped_early"] = True
                    metrics.write(json.dumps({"iteration": iteration, "event": "stopped early",
                                              "score": probed["score"]}) + "\n")
                    break
                _say(progress, iteration, "training")
            if iteration % train_cfg.checkpoint_every == 0 or iteration == train_cfg.iterations:
                metrics.flush()
                save(iteration, elapsed)
            if iteration % train_cfg.preview_every == 0 or (progress is not None and now - last_preview > 5.0):
                last_preview = now
                _preview(out, x, progress, iteration)
    except KeyboardInterrupt:
        if iteration > start and math.isfinite(state.last_loss):
            save(iteration, state.elapsed_before + time.perf_counter() - t0)
        raise
    finally:
        metrics.close()
        bar.close()

    wall = state.elapsed_before + time.perf_counter() - t0
    if iteration > start or not run.checkpoint.exists():
        save(iteration, wall)
    return _finish(run, model, selection, vgg, dev, train_cfg, RunResult(
        out, run.checkpoint, iteration, state.last_loss, wall, status, selection.iteration), progress, quiet)


def _init_source(init_from: str | Path, model_config: ModelConfig | None, overrides: dict[str, Any]) -> Checkpoint:
    """The checkpoint a fine-tuning run starts from; a model option that contradicts its shape is refused."""
    try:
        source = load_checkpoint(init_from)
    except CheckpointError as exc:
        raise TrainingError(f"--init-from: {exc}") from None
    own = asdict(source.model_config)
    clash = sorted(k for k, v in overrides.items() if k in own and v is not None and v != own[k])
    names = [FLAGS.get(k, k) for k in clash]
    if model_config is not None and model_config != source.model_config:
        names.append("model_config")
    if names and base_name(init_from):
        shape = source.model_config
        raise TrainingError(f"--init {base_name(init_from)} starts from a packaged base model "
                            f"({shape.channels} channels, {shape.hidden} hidden, "
                            f"fire rate {shape.fire_rate:g}): drop {', '.join(names)} or pass --init random")
    if names:
        raise TrainingError(f"--init-from takes the model's shape from {init_from}: drop {', '.join(names)}")
    return source


@dataclass
class _State:
    """What the loop carries from one iteration to the next besides the model and the pool."""

    last_loss: float = float("nan")
    bad_in_a_row: int = 0
    lr_scale: float = 1.0  # product of the halvings after non-finite losses
    elapsed_before: float = 0.0  # seconds trained before a resume


def _restore(run: RunDir, state: _State, model: NCA, optimizer, scheduler, pool: SamplePool,
             selection: CheckpointSelection, cpu_gen: torch.Generator, dev_gen: torch.Generator,
             dev: torch.device) -> None:
    """Load resume.pt into the freshly built training objects; a damaged file changes nothing."""
    saved = run.load_resume()
    try:
        # checkpoint.pt may hold an earlier, selected iteration; training goes on from the latest.
        model.load_state_dict(saved.get("model", run.resumed.state_dict))
        selection.best = saved.get("best")
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        states = saved["pool"].to(dev, torch.float32)
        if states.shape != pool.states.shape:
            raise ValueError("pool of another shape")
        pool.states = states
        cpu_gen.set_state(saved["cpu_rng"])
        if dev.type == "cpu":
            dev_gen.set_state(saved["dev_rng"])
        state.lr_scale = float(saved.get("lr_scale", 1.0))
        state.elapsed_before = float(saved.get("wall_time", 0.0))
    except Exception as exc:  # noqa: BLE001 - foreign or incomplete: one message, nothing changed
        raise run.damaged(exc) from None


def _scaled_losses(vgg: VGGFeatures, style_img, style_loss: StyleLoss, cfg: TrainConfig,
                   dev: torch.device) -> list[tuple[float, StyleLoss]]:
    """(k, the loss against the style resized by k) for each perception scale training draws from:
    k = 1 alone, or five steps from 1/R to R (a grid k times finer: features k times as large)."""
    if cfg.scale_range == 1.0:
        return [(1.0, style_loss)]
    out = []
    for k in (cfg.scale_range ** e for e in (-1.0, -0.5, 0.0, 0.5, 1.0)):
        if k == 1.0:
            out.append((k, style_loss))
            continue
        out.append((k, StyleLoss(vgg, image_to_tensor(scaled_style(style_img, k)).to(dev), kind=cfg.loss,
                                 layer_weights=cfg.layer_weights, balance=cfg.gram_balance)))
    return out


def _rollout(model: NCA, x: torch.Tensor, n_steps: int, cfg: TrainConfig, step, generator,
             scale: float = 1.0) -> torch.Tensor:
    """`n_steps` masked updates at perception scale `scale`; with grad_steps set, the earlier ones
    run without autograd."""
    free_steps = max(n_steps - cfg.grad_steps, 0) if cfg.grad_steps else 0
    with torch.no_grad():
        frozen = model._fused_kernel(0.0, scale)
        for _ in range(free_steps):
            x = step(x, fire_mask(x, model.cfg.fire_rate, generator), frozen, model.b1, model.w2)
    kernel = model._fused_kernel(0.0, scale)
    for _ in range(n_steps - free_steps):
        x = step(x, fire_mask(x, model.cfg.fire_rate, generator), kernel, model.b1, model.w2)
    return x


def _learn(loss: torch.Tensor, model: NCA, optimizer: torch.optim.Optimizer) -> bool:
    """Backpropagate, normalise and step; False (and no step) when the loss or a gradient is not finite."""
    optimizer.zero_grad(set_to_none=True)
    if not math.isfinite(float(loss.detach())):
        return False
    loss.backward()
    if not _normalise_gradients(model):
        return False
    optimizer.step()
    return True


def _discard_step(state: _State, optimizer: torch.optim.Optimizer, iteration: int, metrics) -> None:
    """A non-finite step: no update, no pool write, half the learning rate; gives up after MAX_BAD_STEPS."""
    state.bad_in_a_row += 1
    state.lr_scale *= 0.5
    for group in optimizer.param_groups:
        group["lr"] *= 0.5
    event = {"iteration": iteration, "event": "non_finite_loss", "lr": optimizer.param_groups[0]["lr"]}
    metrics.write(json.dumps(event) + "\n")
    metrics.flush()
    if state.bad_in_a_row >= MAX_BAD_STEPS:
        raise TrainingError(f"loss was not finite {state.bad_in_a_row} times in a row at iteration {iteration}; "
                            "try a lower --lr (the last good checkpoint is kept)")


def _say(progress, iteration: int, phase: str) -> None:
    if progress is not None:
        progress({"iteration": iteration, "phase": phase})


def _preview(out: Path, x: torch.Tensor, progress, iteration: int) -> None:
    path = previews.write_pool_preview(out, x.detach())
    previews.write_loss_curve(out)
    if progress is not None:
        progress({"iteration": iteration, "preview": str(path)})


def _finish(run: RunDir, model: NCA, selection: CheckpointSelection, vgg: VGGFeatures, dev: torch.device,
            cfg: TrainConfig, result: RunResult, progress, quiet: bool) -> RunResult:
    """Previews of the model the run hands on, then the closing check and its verdict."""
    if result.status == "finished":
        _say(progress, result.iterations, "evaluating")
    previews.write_loss_curve(run.path)
    if selection.weights is not None:
        model.load_state_dict(selection.weights)  # the preview shows the model the run hands on
    previews.write_rollout_preview(run.path, model, size=2 * cfg.grid)
    if not quiet:
        kept = f" (kept iteration {selection.iteration}: steadiest long rollout)" if selection.best is not None else ""
        if result.iterations < cfg.iterations and result.status == "finished":
            kept += f"; {cfg.iterations - result.iterations} iterations skipped: the probe says the texture holds"
        print(f"{result.status}: {result.iterations} iterations, final loss {result.final_loss:.4g}, "
              f"{result.wall_time:.0f} s -> {run.checkpoint}{kept}", file=sys.stderr)
    if not cfg.check_steps or result.status != "finished":
        return result
    result.evaluation = check(load_checkpoint(run.checkpoint), device=dev.type, vgg=vgg)
    run.write_evaluation(result.evaluation)
    if not quiet:
        last = max(cfg.check_steps)
        ratio = result.evaluation["steps"][str(last)]["style_ratio"]
        print(f"verdict: {describe(result.evaluation)} (style ratio {ratio:.4f} at step {last}; "
              f"nca evaluate {run.path} for more)", file=sys.stderr)
    return result
