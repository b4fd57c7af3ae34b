"""Wall time of whole trainings, preset against preset, measured the same day on the same machine.

A `quick` run takes 5-30 minutes on 2 cores, too long to repeat several times per preset. So each
preset trains a short run of its own settings several times (--iterations each, --repeats runs),
and the full run's time is built from the measured parts: the warm-up of its first iterations
(torch.compile), the median seconds per iteration times its iterations, plus its probes, its
rollout preview and its closing check, each timed once on the model it trained.
The training bench (bench/train_speed.py) gives the day's machine speed to quote beside it.

    python bench/preset_time.py [--presets quick,classic] [--iterations 60] [--repeats 3]
    python bench/preset_time.py --presets fast,quick --set fast:grad_steps=16   # a variant of fast beside both
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.checkpoint import load_checkpoint  # noqa: E402
from nca.config import preset as get_preset  # noqa: E402
from nca.evaluate import CHECK_SAMPLES, evaluate, style_tensor  # noqa: E402
from nca.precision import training_dtype  # noqa: E402
from nca.previews import write_rollout_preview  # noqa: E402
from nca.probe import probe_losses  # noqa: E402
from nca.retry import LONGER, restyled, retries  # noqa: E402
from nca.selection import CheckpointSelection  # noqa: E402
from nca.stepper import make_stepper  # noqa: E402
from nca.sweep.spec import SweepError, parse_value  # noqa: E402
from nca.train import train  # noqa: E402
from nca.vgg import StyleLoss, VGGFeatures  # noqa: E402

STYLE = REPO / "gallery" / "styles" / "leopard.png"
WARMUP = 5  # iterations dropped from each run (compilation, caches)


def probe_iterations(cfg) -> list[int]:
    """The iterations at which a run of `cfg` probes: the training's own schedule."""
    selection = CheckpointSelection(cfg)
    return [i for i in range(1, cfg.iterations + 1) if selection.due(i)]


def probes_in(cfg, after: int = 0) -> int:
    """Probes a run of `cfg` takes after iteration `after`."""
    return len([i for i in probe_iterations(cfg) if i > after])


def second_try_s(cfg, seconds: float, warmup_s: float, probe_s: float, closing_s: float, first_s: float) -> float | None:
    """What a second try adds when the verdict is not good (nca/retry.py), or None without one."""
    if not retries(cfg):
        return None
    if cfg.retry != "longer":
        return first_s  # another start trains and checks as much again
    longer = replace(cfg, iterations=cfg.iterations * LONGER)  # goes on from the first's end
    return (warmup_s + (longer.iterations - cfg.iterations) * seconds
            + probes_in(longer, after=cfg.iterations) * probe_s + closing_s)


def parse_variant(text: str) -> tuple[str, dict]:
    """'fast:grad_steps=16,iterations=150' -> ('fast', {'grad_steps': 16, 'iterations': 150})."""
    name, _, sets = text.partition(":")
    overrides = {}
    for item in filter(None, (s.strip() for s in sets.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise SweepError(f"--set takes PRESET:KEY=VALUE[,KEY=VALUE...], got {text!r}")
        overrides[key.strip().replace("-", "_")] = parse_value(value)
    return name, overrides


def measure(name: str, iterations: int, repeats: int, threads: int, overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    model_cfg, cfg = get_preset(name, **overrides)
    per_it, warmups = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            run = Path(tmp) / f"r{r}"
            # Compiled or not as the full run would be (train compiles runs of 100 iterations or more).
            train(STYLE, run, preset=name, **dict(overrides, iterations=iterations, seed=r, threads=threads, probe_every=0),
                  check_steps=(), checkpoint_every=10**6, preview_every=10**6, quiet=True,
                  compile_step=cfg.iterations >= 100)
            times = [json.loads(line)["seconds"] for line in (run / "metrics.jsonl").read_text().splitlines()]
            per_it.append(statistics.median(times[WARMUP:]))
            warmups.append(sum(times[:WARMUP]) - WARMUP * per_it[-1])  # compilation and caches, paid once a run
        ckpt = load_checkpoint(Path(tmp) / "r0")
        model = ckpt.build_model("cpu").train()
        loss = StyleLoss(VGGFeatures(), style_tensor(ckpt), kind=cfg.loss, layer_weights=cfg.layer_weights, balance=cfg.gram_balance)
        t0 = time.perf_counter()
        probe_losses(model, loss, cfg.grid, step=make_stepper(torch.device("cpu"), True, quiet=True,
                                                                 dtype=training_dtype(cfg.precision, torch.device("cpu"))))
        probe_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if cfg.check_steps:  # the short runs skipped it: time the preset's own check on the model they trained
            evaluate(ckpt, steps=cfg.check_steps, samples=CHECK_SAMPLES, device="cpu")
        check_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_rollout_preview(Path(tmp) / "r0", ckpt.build_model("cpu"), size=2 * cfg.grid)
        preview_s = time.perf_counter() - t0
    seconds, warmup_s = statistics.median(per_it), statistics.median(warmups)
    closing_s = preview_s + check_s  # every try ends with its rollout preview and its check (nca.train._finish)
    total = warmup_s + cfg.iterations * seconds + probes_in(cfg) * probe_s + closing_s
    # A run that stops early (stop_below) ends at a probe before its last iteration, then checks.
    stops = {i: warmup_s + i * seconds + (probes_in(cfg) - probes_in(cfg, after=i)) * probe_s + closing_s
             for i in probe_iterations(cfg)[:-1]} if cfg.stop_below else {}
    again = second_try_s(cfg, seconds, warmup_s, probe_s, closing_s, total)
    # A third trains anew at a smaller style (the style's size does not change the time) or goes on (as the second).
    anew_cfg = restyled(cfg, cfg.init, cfg.style_size)
    anew = warmup_s + anew_cfg.iterations * seconds + probes_in(anew_cfg) * probe_s + closing_s
    third = None if again is None else max(anew, again)
    # A steadying fourth fine-tunes the kept model as the first trained (nca/retry.py steadying).
    fourth = None if again is None else total
    return {"preset": name, "iterations": cfg.iterations, "s_per_it_runs": [round(t, 4) for t in per_it],
            "s_per_it": round(seconds, 4), "warmup_s": round(warmup_s, 1), "probes": probes_in(cfg), "probe_s": round(probe_s, 1),
            "check_s": round(check_s, 1), "preview_s": round(preview_s, 1), "minutes": round(total / 60, 2),
            "stopped_early_minutes": {str(i): round(t / 60, 2) for i, t in stops.items()},
            "with_second_try_minutes": (None if again is None else round((total + again) / 60, 2)),
            "with_third_try_minutes": (None if third is None else round((total + again + third) / 60, 2)),
            "with_fourth_try_minutes": (None if fourth is None else round((total + again + third + fourth) / 60, 2)),
            "overrides": overrides,
            "parameters": model_cfg.parameter_count}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="quick,classic")
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="PRESET:KEY=VALUE,...",
                    help="also time a variant of a preset, e.g. fast:grad_steps=16 (measured before the presets)")
    args = ap.parse_args()
    try:
        variants = [parse_variant(v) for v in args.set]
    except SweepError as exc:
        raise SystemExit(f"error: {exc}") from None
    torch.set_num_threads(args.threads)
    rows = [measure(p, args.iterations, args.repeats, args.threads, o) for p, o in variants]
    rows += [measure(p, args.iterations, args.repeats, args.threads) for p in args.presets.split(",")]
    for row in rows:
        print(json.dumps(row))
    base = rows[-1]["minutes"]
    for row in rows:
        label = row["preset"] + "".join(f" {k}={v}" for k, v in row["overrides"].items())
        print(f"{label:>10}: {row['minutes']:.1f} min (warm-up {row['warmup_s']:.0f} s + "
              f"{row['iterations']} it x {row['s_per_it']:.3f} s "
              f"+ {row['probes']} probes x {row['probe_s']:.0f} s + preview {row['preview_s']:.0f} s "
              f"+ check {row['check_s']:.0f} s), "
              f"{row['minutes'] / base:.2f} of {rows[-1]['preset']}"
              + (f"; {row['with_second_try_minutes']:.1f} min when a second try runs, "
                 f"{row['with_third_try_minutes']:.1f} min with a third, {row['with_fourth_try_minutes']:.1f} with a "
                 "fourth" if row["with_second_try_minutes"] else "")
              + "".join(f"; {m:.2f} min ({m / base:.2f}) stopped at iteration {i}"
                        for i, m in row["stopped_early_minutes"].items()))


if __name__ == "__main__":
    main()
