"""Run a sweep's trials as Ray tasks: on an embedded local cluster by default, or on a cluster
named by `address` ("auto", "ray://HOST:10001"). Ray retries a trial whose worker dies; finished
trials leave a row, so an interrupted sweep goes on where it stopped, and an unfinished trial
resumes from its last checkpoint.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .results import rows_dir, save_row, write_tables
from .spec import Judging, SweepError, Trial, check_trials
from .trial import STRIP_NAME, run_trial, run_trial_shipped, unpack

INSTALL_HINT = "nca sweep needs Ray: pip install 'nca-studio[cluster]' (or pip install ray)"
LOCAL_OBJECT_STORE = 256 * 2**20  # rows and shipped run directories are small; the default takes 30% of RAM
ATTEMPTS_NAME = ".attempts"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C: the finished trials are kept; the same sweep again goes on."""


def _task(trial: Trial, run_dir: str, judging: Judging, threads: int, device: str, ship: bool) -> dict[str, Any]:
    """What a Ray worker runs for one trial (a module-level function, so workers import it by name)."""
    if ship:
        return run_trial_shipped(trial, judging, threads=threads, device=device)
    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    attempts = path / ATTEMPTS_NAME  # counts retries after a worker died
    count = int(attempts.read_text()) + 1 if attempts.is_file() else 1
    attempts.write_text(str(count))
    row = run_trial(trial, path, judging, threads=threads, device=device)
    row["attempt"] = count
    return row


def run_sweep(trials: list[Trial], out: Path, judging: Judging | None = None, *, address: str | None = None,
              num_cpus: int | None = None, cpus_per_trial: float = 1, gpus_per_trial: float = 0, threads: int = 1,
              device: str = "auto", retries: int = 3, runs: Path | None = None, quiet: bool = False,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict]:
    """Run every trial without a row in `out`, then return all rows. Run directories go to `runs`
    (default out/runs); on a cluster (`address` given) each comes back to the driver as an archive.
    `on_row` sees each finished row on the driver, its run directory in place (e.g. to export it)."""
    check_trials(trials)
    judging = judging or Judging()
    out = Path(out)
    runs = Path(runs) if runs else out / "runs"
    rows_dir(out).mkdir(parents=True, exist_ok=True)
    todo = [t for t in trials if not (rows_dir(out) / f"{t.name}.json").is_file()]
    if not todo:
        return write_tables(out)
    try:
        import ray
    except ImportError:
        raise SweepError(INSTALL_HINT) from None
    started = _start_ray(ray, address, num_cpus)
    try:
        task = ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, max_retries=retries)(_task)
        ship = address is not None
        pending = {task.remote(t, str(runs / t.name), judging, threads, device, ship): t for t in todo}
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_trial, 1e-9)))
        progress = _Progress(len(trials), len(trials) - len(todo), len(todo), slots, quiet)
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
                for ref in ready:
                    trial = pending.pop(ref)
                    row = _collect(ray, ref, trial, runs, out, retries)
                    if on_row is not None and row.get("status") == "done":
                        on_row(row)
                    save_row(out, row)
                    write_tables(out)
                    progress.finished(row)
                progress.show()
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            write_tables(out)
            raise SweepInterrupted(f"interrupted: {progress.done} of {len(trials)} trials done; run the same "
                                   "sweep again to go on") from None
    finally:
        if started:
            ray.shutdown()
    return write_tables(out)


def _start_ray(ray, address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at `address`, or start an embedded one; False when Ray was already running here."""
    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), object_store_memory=LOCAL_OBJECT_STORE,
                     **quiet)
    except ConnectionError as exc:
        raise SweepError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    return True


def _collect(ray, ref, trial: Trial, runs: Path, out: Path, retries: int) -> dict[str, Any]:
    """The trial's row; a worker that died on every attempt makes a failed row, not a stopped sweep."""
    run_dir = runs / trial.name
    try:
        row = ray.get(ref)
    except ray.exceptions.WorkerCrashedError:
        return {**trial.to_dict(), "status": "failed", "verdict": "failed",
                "reasons": [f"its worker died {retries + 1} times"], "error": "worker died"}
    if "archive" in row:
        unpack(row.pop("archive"), run_dir)
    row["run"] = str(run_dir)
    if (run_dir / STRIP_NAME).is_file():
        shutil.copyfile(run_dir / STRIP_NAME, rows_dir(out) / f"{trial.name}.png")
    return row


class _Progress:
    """One line: trials done / running / failed and the time left, redrawn on a terminal."""

    def __init__(self, total: int, done: int, todo: int, slots: int, quiet: bool):
        self.total, self.done, self.failed, self.slots, self.quiet = total, done, 0, slots, quiet
        self.todo, self.finished_now, self.t0 = todo, 0, time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = ""

    def finished(self, row: dict[str, Any]) -> None:
        self.done += 1
        self.finished_now += 1
        self.failed += row.get("status") == "failed"
        if not self.quiet and not self.tty:
            print(f"{row['name']}: {row.get('verdict')} {'; '.join(row.get('reasons', []))}", file=sys.stderr)

    def show(self) -> None:
        if self.quiet:
            return
        left = self.todo - self.finished_now
        running = min(left, self.slots)
        eta = "-"
        if self.finished_now:
            per_trial = (time.monotonic() - self.t0) / self.finished_now
            eta = f"{math.ceil(per_trial * left / 60)} min"
        line = f"sweep: {self.done}/{self.total} done, {running} running, {self.failed} failed, ETA {eta}"
        if line != self.last:
            print(("\r" if self.tty else "") + line, end="" if self.tty else "\n", file=sys.stderr, flush=True)
            self.last = line
