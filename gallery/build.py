"""Rebuild the bundled gallery: train every recipe, export it to web/models/, evaluate it.

    python gallery/build.py [--jobs 2] [--only leopard,rust] [--threads 1] [--skip-trained | --evaluate-only]
    python gallery/build.py --only leopard,pebbles,rust,gravel --seeds 1,2   # how reliable is the recipe?

Long (about 10-50 CPU-minutes per model); not part of the tests. Runs recipes in parallel
worker processes, one torch thread each: two 2-thread processes on two cores spend most of
their time waiting on each other's OpenMP barriers.

Every model is evaluated (8 x 128x128 from the seed to steps 500, 2000, 5000) and judged by
nca/verdict.py; the figures go to gallery/quality.json and, with the verdict, into the bundle.
`--seeds` trains each recipe again with other training seeds (runs/gallery/<name>-seed<N>),
evaluates them the same way, and records the figures and verdicts in gallery/seeds.json;
nothing is exported, the bundles stay as they are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNS = REPO / "runs" / "gallery"
MODELS = REPO / "web" / "models"
REPORT = HERE / "quality.json"
SEEDS_REPORT = HERE / "seeds.json"
RECIPE_KEYS = {"name", "style", "preset"}


def load_recipes() -> list[dict]:
    return json.loads((HERE / "recipes.json").read_text())["models"]


def recipe_overrides(recipe: dict) -> dict:
    """The config fields a recipe sets beyond its preset (shared with tests/test_gallery)."""
    return {k: v for k, v in recipe.items() if k not in RECIPE_KEYS}


def results_table() -> str:
    """The README's results table, from gallery/quality.json (`--readme` writes it in)."""
    report = json.loads(REPORT.read_text())
    rows = ["| model | style ratio at 500 / 2000 / 5000 steps | scale at 2000 | verdict |", "| --- | --- | --- | --- |"]
    for recipe in load_recipes():
        r = report[recipe["name"]]
        ratios = " / ".join(f"{r['steps'][n]['style_ratio']:.4f}" for n in sorted(r["steps"], key=int))
        rows.append(f"| {recipe['name']} | {ratios} | {r['steps']['2000']['scale_ratio']:.2f} | {r['verdict']} |")
    return "\n".join(rows) + "\n"


def write_readme_table() -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    start, end = "<!-- results -->\n", "<!-- /results -->"
    head, rest = text.split(start, 1)
    readme.write_text(head + start + results_table() + end + rest.split(end, 1)[1])


def run_name(recipe: dict, seed: int | None) -> str:
    return recipe["name"] if seed is None else f"{recipe['name']}-seed{seed}"


def build_one(recipe: dict, threads: int, skip_trained: bool, evaluate_only: bool = False,
              seed: int | None = None) -> dict:
    """Train, export and evaluate one recipe (runs inside a worker process). `evaluate_only`
    measures the bundled model in web/models/ (its checkpoint travels with it), so the figures
    can be refreshed on a fresh clone without the runs/ directory. With `seed` the recipe is
    trained with that training seed instead and not exported."""
    sys.path.insert(0, str(REPO))
    import torch

    import exporter
    from nca.checkpoint import load_checkpoint, update_meta
    from nca.evaluate import evaluate, summary
    from nca.previews import image_grid
    from nca.train import train

    run_dir = RUNS / run_name(recipe, seed)
    overrides = recipe_overrides(recipe) | ({} if seed is None else {"seed": seed})
    t0 = time.time()
    source = MODELS / recipe["name"] if evaluate_only else run_dir
    if not evaluate_only and not (skip_trained and (run_dir / "checkpoint.pt").exists()):
        train(HERE / "styles" / recipe["style"], run_dir, preset=recipe["preset"], threads=threads, **overrides)
    torch.set_num_threads(threads)
    report = evaluate(source, size=128, steps=(500, 2000, 5000))
    figures = summary(report)
    if seed is None:
        # The bundle carries the gallery's own figures (8 samples) as its verdict, and a fresh thumbnail;
        # exported from a copy, since the source may be that very bundle.
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copyfile(source / "checkpoint.pt", Path(tmp) / "checkpoint.pt")
            update_meta(Path(tmp) / "checkpoint.pt", evaluation=figures)
            exporter.export(Path(tmp) / "checkpoint.pt", MODELS, name=recipe["name"], force=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    image_grid([report["target"]] + list(report["frames"].values()), pad=4).save(run_dir / "evaluate.png")
    meta = load_checkpoint(MODELS / recipe["name"] if seed is None else run_dir).meta
    return {"name": run_name(recipe, seed), "minutes": round((time.time() - t0) / 60, 1),
            "train_minutes": round(meta.get("wall_time", 0) / 60, 1), "iterations": meta.get("iterations"),
            "selected_iteration": meta.get("selected_iteration"), "threads": threads,
            "samples": report["samples"], "steps": figures["steps"], "rise": report["rise"],
            "verdict": figures["verdict"], "reasons": figures["reasons"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", help="comma-separated recipe names")
    ap.add_argument("--seeds", help="comma-separated training seeds: retrain and evaluate each recipe with each "
                                    "(no export; figures go to gallery/seeds.json)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--skip-trained", action="store_true", help="re-export and re-evaluate existing runs")
    mode.add_argument("--evaluate-only", action="store_true", help="only re-evaluate the bundled models in web/models")
    ap.add_argument("--readme", action="store_true", help="only rewrite README.md's results table from quality.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.readme:
        write_readme_table()
        return 0
    recipes = load_recipes()
    if args.seeds is not None and args.evaluate_only:
        ap.error("--seeds trains new runs; it cannot be combined with --evaluate-only")

    if args.worker:  # child process: one recipe, JSON result on stdout
        recipe = next(r for r in recipes if r["name"] == args.worker)
        print(json.dumps(build_one(recipe, args.threads, args.skip_trained, args.evaluate_only, args.seed)), flush=True)
        return 0

    wanted = set(args.only.split(",")) if args.only else {r["name"] for r in recipes}
    try:
        seeds = [None] if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    except ValueError:
        ap.error(f"--seeds takes comma-separated whole numbers, got {args.seeds!r}")
    queue = [(r, seed) for seed in seeds for r in recipes if r["name"] in wanted]
    report_path = REPORT if args.seeds is None else SEEDS_REPORT
    running: list[tuple[str, subprocess.Popen]] = []
    failed = []
    while queue or running:
        while queue and len(running) < args.jobs:
            recipe, seed = queue.pop(0)
            name = run_name(recipe, seed)
            RUNS.mkdir(parents=True, exist_ok=True)
            log = (RUNS / f"{name}.log").open("w")
            cmd = [sys.executable, __file__, "--worker", recipe["name"], "--threads", str(args.threads)]
            cmd += ["--skip-trained"] * args.skip_trained + ["--evaluate-only"] * args.evaluate_only
            cmd += [] if seed is None else ["--seed", str(seed)]
            running.append((name, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)))
            print(f"started {name}", flush=True)
        time.sleep(2)
        for name, proc in list(running):
            if proc.poll() is None:
                continue
            running.remove((name, proc))
            out = proc.stdout.read().strip().splitlines()
            if proc.returncode == 0 and out:
                result = json.loads(out[-1])
                # Re-read before writing: another build.py may have finished a model meanwhile.
                report = json.loads(report_path.read_text()) if report_path.exists() else {}
                report[name] = result
                report_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
                at = result["steps"]
                print(f"done {name} in {result['minutes']} min (training {result['train_minutes']} min): style ratio "
                      + ", ".join(f"{k}: {v['style_ratio']:.4f}" for k, v in at.items())
                      + f"; rise {result['rise'] * 100:+.0f}%; scale {at['2000']['scale_ratio']:.2f}; "
                      + f"verdict {result['verdict']}", flush=True)
            else:
                failed.append(name)
                print(f"FAILED {name}: see {RUNS / (name + '.log')}", flush=True)
    if not failed and args.seeds is None:
        write_readme_table()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
