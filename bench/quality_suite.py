"""Quality suite: train one preset on many style images, evaluate each far into its future, judge it.

A sweep (nca/sweep: Ray tasks on this machine) over the images of gallery/styles/ x --seeds, each
trial judged on SAMPLES states of 128x128 grown from the seed to each step count in STEPS. Results
go to --out (rows/, results.json, results.md, contact_sheet.png, best.json; notes.json and eye.json
are written by hand: {image stem: what a person saw, why it fails, what fixes it} and {image stem:
how many blind reviewers answered YES, PARTLY or NO}, see nca/sweep/results.py); runs live under --runs.
A finished row is not redone, and an unfinished run resumes, so a suite interrupted by Ctrl-C or
spread over several sessions picks up where it stopped.

    python bench/quality_suite.py --preset quick --out docs/quality/quick
    python bench/quality_suite.py --preset quick --set iterations=500 --images leopard,gold --parallel 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.config import DEFAULT_PRESET, PRESETS  # noqa: E402
from nca.sweep.results import load_rows, write_tables  # noqa: E402
from nca.sweep.runner import run_sweep  # noqa: E402
from nca.sweep.spec import Judging, SweepError, parse_sets, product_trials  # noqa: E402

STYLES = REPO / "gallery" / "styles"
STEPS = (500, 2000, 5000, 20000)
SAMPLES = 4  # 8 as `nca evaluate` uses would double the 20000-step rollouts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a training option for every image, e.g. --set iterations=500")
    ap.add_argument("--images", default="", help="comma-separated stems of gallery/styles images (default: all)")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds")
    ap.add_argument("--out", type=Path, default=None, help="results directory (default docs/quality/<preset>)")
    ap.add_argument("--runs", type=Path, default=None, help="run directories (default runs/suite-<preset>)")
    ap.add_argument("--steps", default=",".join(map(str, STEPS)), help="step counts to evaluate at")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per trial")
    ap.add_argument("--parallel", type=int, default=1, help="trials at a time (each takes --threads cores)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tables-only", action="store_true", help="rebuild the tables and the sheet from the rows")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    out = args.out or REPO / "docs" / "quality" / args.preset
    if args.tables_only:
        write_tables(out)
        return 0
    stems = [s.strip() for s in args.images.split(",") if s.strip()]
    images = [STYLES / f"{s}.png" for s in stems] if stems else sorted(STYLES.glob("*.png"))
    try:
        grid = parse_sets(args.set)
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        steps = tuple(sorted(int(n) for n in args.steps.split(",")))
    except (SweepError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    if any(len(v) > 1 for v in grid.values()):
        raise SystemExit("error: the suite applies one value per option; use `nca sweep` to compare values")
    before = {r["name"] for r in load_rows(out)} if (out / "rows").is_dir() else set()
    try:
        rows = run_sweep(product_trials(images, seeds, args.preset, grid), out, Judging(steps=steps, samples=SAMPLES),
                         num_cpus=args.parallel * args.threads, cpus_per_trial=args.threads, threads=args.threads,
                         device=args.device, runs=args.runs or REPO / "runs" / f"suite-{args.preset}", quiet=args.quiet)
    except SweepError as exc:
        raise SystemExit(f"error: {exc}") from None
    good = sum(r.get("verdict") == "good" for r in rows)
    for r in rows:
        if r["name"] not in before:
            print(f"{r['name']}: {r['verdict']} {r.get('reasons', [])} (train {r.get('train_minutes', '-')} min, "
                  f"evaluate {r.get('evaluate_minutes', '-')} min); {good} of {len(rows)} good", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
