"""Training sweeps: images x seeds x option overrides, each trial trained, evaluated and judged,
run as Ray tasks on this machine or on a cluster (`nca sweep`, `nca.sweep(...)`).

spec.py says what the trials are, trial.py runs one, runner.py schedules them with Ray,
results.py writes the table, the contact sheet and the best of each image. The command,
`nca sweep`, is exporter/sweep_cli.py (it can export the trials).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import DEFAULT_PRESET
from .spec import Judging, SweepError, Trial, load_spec, parse_sets, product_trials


def sweep(images: list[str | Path] | None = None, out: str | Path = "sweeps/sweep", *, seeds: list[int] = (0,),
          preset: str = DEFAULT_PRESET, set: dict[str, Any] | None = None, spec: str | Path | None = None,
          steps: tuple[int, ...] | None = None, samples: int | None = None, **runner: Any) -> list[dict]:
    """Run a sweep and return its rows. `set` maps an option to one value or a list of values to try;
    `spec` reads trials and judging from a JSON/TOML file instead. Runner options: address, num_cpus,
    cpus_per_trial, gpus_per_trial, threads, device, retries, runs, quiet, on_row (nca.sweep.runner.run_sweep)."""
    from .runner import run_sweep

    if spec is not None:
        trials, judging = load_spec(Path(spec))
    else:
        grid = {k: (list(v) if isinstance(v, list | tuple) else [v]) for k, v in (set or {}).items()}
        trials, judging = product_trials([Path(p) for p in images or []], list(seeds), preset, grid), Judging()
    judging = Judging(steps=tuple(sorted(steps)) if steps else judging.steps, samples=samples or judging.samples,
                      size=judging.size)
    return run_sweep(trials, Path(out), judging, **runner)


__all__ = ["Judging", "SweepError", "Trial", "parse_sets", "sweep"]
