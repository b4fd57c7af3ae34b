"""Training speed: median iterations/s of the real training loop (not a test).

The reference setting: 64x64 grid, batch 4, 12 channels, 96 hidden, 32 steps per
iteration, Gram loss on the five VGG layers, 2 threads. Runs `nca.train.train`
itself and reads the per-iteration times it logs, so the figure is the loop users get.

    python bench/train_speed.py [--iterations 40] [--repeats 3] [--eager] [--precision bfloat16]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.config import PRECISIONS  # noqa: E402
from nca.train import train  # noqa: E402

STYLE = REPO / "tests" / "data" / "pebbles.png"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5, help="iterations dropped from each run (compile, caches)")
    ap.add_argument("--eager", action="store_true", help="do not torch.compile the step")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="float32", choices=PRECISIONS, help="training's arithmetic (nca/precision.py)")
    args = ap.parse_args()
    torch.set_num_threads(2)

    medians = []
    for r in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            train(STYLE, tmp, preset="quick", iterations=args.iterations, grid=64, batch=4, channels=12,
                  hidden=96, steps_min=32, steps_max=32, loss="gram", threads=2, seed=r, device=args.device, check_steps=(),
                  precision=args.precision,
                  checkpoint_every=10**6, preview_every=10**6, probe_every=0, quiet=True, compile_step=not args.eager)
            times = [json.loads(line)["seconds"] for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
        its = sorted(1.0 / t for t in times[args.warmup:])
        medians.append(statistics.median(its))
        print(f"run {r + 1}: median {medians[-1]:.2f} it/s over {len(its)} iterations "
              f"(min {its[0]:.2f}, max {its[-1]:.2f})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "eager" if args.eager else "torch.compile"
    print(f"train_speed ({mode}, {args.device}, {args.precision}, 64x64, batch 4, 12ch/96h, 32 steps, gram): "
          f"median {statistics.median(medians):.2f} it/s over {args.repeats} runs; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
