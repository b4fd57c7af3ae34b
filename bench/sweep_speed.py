"""Wall time of a small sweep through Ray beside the same trials run one after the other, and the
memory Ray itself takes (its own processes, not the trials' workers).

    python bench/sweep_speed.py [--trials 4] [--iterations 200] [--repeats 3]

Run it on a quiet machine: every figure is a median of --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.sweep.spec import Judging, product_trials  # noqa: E402
from nca.sweep.trial import run_trial  # noqa: E402

STYLES = [REPO / "tests" / "data" / "pebbles.png", REPO / "tests" / "data" / "rust.png"]
JUDGING = Judging(steps=(16, 32), samples=2)
RAY_PROCESSES = ("raylet", "gcs_server", "dashboard", "log_monitor", "runtime_env", "monitor.py", "agent")


def ray_rss_mb() -> float:
    """Resident memory of Ray's own processes (workers running trials excluded)."""
    out = subprocess.run(["ps", "-eo", "rss,args"], capture_output=True, text=True).stdout.splitlines()[1:]
    return sum(int(line.split(None, 1)[0]) for line in out
               if any(p in line for p in RAY_PROCESSES) and "sweep_speed" not in line) / 1024


def trials(n: int, iterations: int):
    seeds = list(range((n + len(STYLES) - 1) // len(STYLES)))
    return product_trials(STYLES, seeds, "tiny", {"iterations": [iterations]})[:n]


def sequential(n: int, iterations: int, threads: int) -> float:
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for t in trials(n, iterations):
            run_trial(t, Path(tmp) / t.name, JUDGING, threads=threads, device="cpu")
        return time.perf_counter() - t0


def through_ray(n: int, iterations: int) -> tuple[float, float]:
    from nca.sweep.runner import run_sweep

    peak = [0.0]
    done = threading.Event()

    def watch():
        while not done.wait(0.5):
            peak[0] = max(peak[0], ray_rss_mb())

    watcher = threading.Thread(target=watch)
    with tempfile.TemporaryDirectory() as tmp:
        watcher.start()
        t0 = time.perf_counter()
        try:
            run_sweep(trials(n, iterations), Path(tmp), JUDGING, num_cpus=2, threads=1, device="cpu", quiet=True)
        finally:
            wall = time.perf_counter() - t0
            done.set()
            watcher.join()
    return wall, peak[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = {"sequential, 1 thread": [], "sequential, 2 threads": [], "ray, 2 x 1 thread": []}
    memory = []
    for _ in range(args.repeats):
        rows["sequential, 1 thread"].append(sequential(args.trials, args.iterations, 1))
        rows["sequential, 2 threads"].append(sequential(args.trials, args.iterations, 2))
        wall, mb = through_ray(args.trials, args.iterations)
        rows["ray, 2 x 1 thread"].append(wall)
        memory.append(mb)
    result = {k: {"median_s": round(statistics.median(v), 1), "runs_s": [round(x, 1) for x in v]} for k, v in rows.items()}
    result["ray_own_processes_peak_mb"] = round(statistics.median(memory))
    print(json.dumps({"trials": args.trials, "iterations": args.iterations, **result}, indent=1))


if __name__ == "__main__":
    main()
