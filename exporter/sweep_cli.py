"""`nca sweep`: argparse wiring around nca.sweep.runner.run_sweep.

It lives with the exporter, a layer above the core, because `--export` exports trials as they
finish; `nca` finds it through the entry point pyproject.toml registers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nca import exits
from nca.config import DEFAULT_PRESET, PRESETS


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep", help="train and judge many images x seeds x settings, on this machine or a Ray cluster",
        description="Train every trial of a sweep (images x seeds x --set values), evaluate and judge each, and "
                    "write one table (results.json, results.md), a contact sheet and the best trial of each image "
                    "to --out. Trials run as Ray tasks: by default on a Ray cluster started inside the command on "
                    "this machine; --address joins an existing one. A sweep interrupted with Ctrl-C goes on "
                    "where it stopped when run again.",
        epilog="example: nca sweep a.png b.png --seeds 0,1,2 --preset quick --set lr=1e-3,2e-3 --out sweeps/x")
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_SPEC",
                   help="style images, or one .json/.toml sweep spec file (see docs/reference.md)")
    p.add_argument("--out", type=Path, required=True, help="sweep directory: rows, tables, contact sheet, runs/")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds (default: 0)")
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help=f"training preset (default: {DEFAULT_PRESET})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=V1[,V2...]",
                   help="a training option and the values to try, e.g. lr=1e-3,2e-3 (repeatable; one value "
                        "applies to every trial; default: none)")
    p.add_argument("--steps", default="500,2000,5000", help="step counts each trial is judged at (default: 500,2000,5000)")
    p.add_argument("--samples", type=int, default=4, help="rollouts averaged per figure (default: 4)")
    p.add_argument("--address", default=None, help="Ray cluster to join: auto, or ray://HOST:10001 "
                                                   "(default: start one on this machine)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local cluster (default: all)")
    p.add_argument("--cpus-per-trial", type=float, default=1, help="CPUs Ray reserves per trial (default: 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0, help="GPUs Ray reserves per trial (default: 0)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per trial (default: 1)")
    p.add_argument("--device", default="auto", help="training device of each trial (default: auto)")
    p.add_argument("--retries", type=int, default=3, help="times a trial whose worker died is retried (default: 3)")
    p.add_argument("--export", type=Path, default=None, metavar="DIR",
                   help="also export every finished trial as a model bundle into DIR, named after the trial "
                        "(e.g. data/models: the studio lists them; default: no export)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run_cli)
    return p


def run_cli(args: argparse.Namespace) -> int:
    from nca.sweep.runner import SweepInterrupted, run_sweep
    from nca.sweep.spec import Judging, SweepError, load_spec, parse_sets, product_trials

    try:
        specs = [Path(p) for p in args.inputs if Path(p).suffix.lower() in (".json", ".toml")]
        if specs:
            if len(args.inputs) > 1:
                raise SweepError("give either one spec file or style images, not both")
            trials, judging = load_spec(specs[0])
        else:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
            steps = tuple(sorted({int(s) for s in args.steps.split(",") if s.strip()}))
            if not steps or steps[0] < 1 or args.samples < 1:
                raise SweepError("--steps needs step counts >= 1 and --samples a number >= 1")
            trials = product_trials([Path(p) for p in args.inputs], seeds, args.preset, parse_sets(args.set))
            judging = Judging(steps=steps, samples=args.samples)
        rows = run_sweep(trials, args.out, judging, address=args.address, num_cpus=args.num_cpus,
                         cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial,
                         threads=args.threads, device=args.device, retries=args.retries, quiet=args.quiet,
                         on_row=_exporter(args.export) if args.export else None)
    except ValueError as exc:  # SweepError, and int() of --seeds / --steps
        text = str(exc) if isinstance(exc, SweepError) else f"--seeds and --steps take comma-separated whole numbers ({exc})"
        print(f"error: {text}", file=sys.stderr)
        return exits.USER_ERROR
    except SweepInterrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        return exits.INTERRUPTED
    good = sum(r.get("verdict") == "good" for r in rows)
    failed = sum(r.get("status") == "failed" for r in rows)
    print(f"\n{len(rows)} trials: {good} good, {failed} failed -> {args.out / 'results.md'}", file=sys.stderr)
    return exits.OK


def _exporter(models: Path):
    def export_row(row: dict) -> None:
        from . import export

        export(row["run"], models, name=row["name"], force=True)

    return export_row
