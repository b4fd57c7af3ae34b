"""The closing check's rollout: milliseconds per step, dense step against the fired-cells rollout (not a test).

The check grows 4 samples of 128x128 for 5000 steps (nca.evaluate.check). This times that rollout
for the packaged leopard base on the CPU, compiled as the check compiles it: the dense fused step
over two samples at a time (the check's rollout before this one) and nca.rollouts.FiredRollout, the check's
rollout now. Both draw the same masks; the bench also reports how far their states part.

    python bench/rollout_speed.py [--steps 300] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.checkpoint import load_checkpoint  # noqa: E402
from nca.evaluate import CHECK_SAMPLES  # noqa: E402
from nca.model import fire_mask  # noqa: E402
from nca.rollouts import FiredRollout  # noqa: E402
from nca.stepper import make_stepper  # noqa: E402

BASE = REPO / "nca" / "bases" / "leopard.pt"
SIZE = 128  # the check's grid
DENSE_CHUNK = 2  # samples per call of the dense step, as the check stepped them


def dense(model, step):
    kernel = model._fused_kernel(0.0)

    @torch.no_grad()
    def rollout(x: torch.Tensor, steps: int, generator: torch.Generator) -> torch.Tensor:
        for _ in range(steps):
            mask = fire_mask(x, model.cfg.fire_rate, generator)
            x = torch.cat([step(x[i:i + DENSE_CHUNK], mask[i:i + DENSE_CHUNK], kernel, model.b1, model.w2)
                           for i in range(0, x.shape[0], DENSE_CHUNK)])
        return x

    return rollout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_checkpoint(BASE).build_model("cpu")
    x = model.seed(CHECK_SAMPLES, SIZE, SIZE)
    kinds = {"dense": dense(model, make_stepper(torch.device("cpu"), True, quiet=True)),
             "fired": FiredRollout(model)}
    per_step: dict[str, list[float]] = {name: [] for name in kinds}
    ends = {}
    for rollout in kinds.values():
        rollout(x, 5, torch.Generator().manual_seed(0))  # compile
    for r in range(args.repeats):
        for name, rollout in kinds.items():  # interleaved, so a slow spell of the machine hits both
            t0 = time.perf_counter()
            ends[name] = rollout(x, args.steps, torch.Generator().manual_seed(r))
            per_step[name].append((time.perf_counter() - t0) / args.steps * 1000)
    for name, times in per_step.items():
        print(f"{name}: median {statistics.median(times):.2f} ms/step (runs {min(times):.2f}-{max(times):.2f}); "
              f"5000 steps {statistics.median(times) * 5:.1f} s")
    parted = float((ends["dense"] - ends["fired"]).abs().max())
    print(f"rollout_speed ({CHECK_SAMPLES} x {SIZE}x{SIZE}, {args.threads} threads, {args.steps} steps x {args.repeats}): "
          f"fired {statistics.median(per_step['dense']) / statistics.median(per_step['fired']):.2f}x as fast as dense; "
          f"states part by at most {parted:.1e} after {args.steps} steps")


if __name__ == "__main__":
    main()
