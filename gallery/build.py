"""Rebuild the bundled gallery: train every recipe, export it to web/models/, evaluate it.

    python gallery/build.py [--jobs 2] [--only leopard,rust] [--threads 1] [--skip-trained | --evaluate-only]

Long (about 10-20 CPU-minutes per model); not part of the tests. Runs recipes in parallel
worker processes, one torch thread each: two 2-thread processes on two cores spend most of
their time waiting on each other's OpenMP barriers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNS = REPO / "runs" / "gallery"
MODELS = REPO / "web" / "models"
REPORT = HERE / "quality.json"
RECIPE_KEYS = {"name", "style", "preset"}


def load_recipes() -> list[dict]:
    return json.loads((HERE / "recipes.json").read_text())["models"]


def recipe_overrides(recipe: dict) -> dict:
    """The config fields a recipe sets beyond its preset (shared with tests/test_gallery)."""
    return {k: v for k, v in recipe.items() if k not in RECIPE_KEYS}


def build_one(recipe: dict, threads: int, skip_trained: bool, evaluate_only: bool = False) -> dict:
    """Train, export and evaluate one recipe (runs inside a worker process). `evaluate_only`
    measures the bundled model in web/models/ (its checkpoint travels with it), so the figures
    can be refreshed on a fresh clone without the runs/ directory."""
    sys.path.insert(0, str(REPO))
    import torch

    import exporter
    from nca.evaluate import evaluate
    from nca.train import train

    run_dir = RUNS / recipe["name"]
    overrides = recipe_overrides(recipe)
    t0 = time.time()
    source = MODELS / recipe["name"] if evaluate_only else run_dir
    if not evaluate_only:
        if not (skip_trained and (run_dir / "checkpoint.pt").exists()):
            train(HERE / "styles" / recipe["style"], run_dir, preset=recipe["preset"], threads=threads, **overrides)
        exporter.export(run_dir, MODELS, name=recipe["name"])
    torch.set_num_threads(threads)
    report = evaluate(source, size=128, steps=(500, 2000, 5000))
    run_dir.mkdir(parents=True, exist_ok=True)
    pictures = [report["target"]] + list(report["frames"].values())
    from nca.previews import image_grid
    image_grid(pictures, pad=4).save(run_dir / "evaluate.png")
    from nca.checkpoint import load_checkpoint
    meta = load_checkpoint(source).meta
    return {"name": recipe["name"], "minutes": round((time.time() - t0) / 60, 1),
            "train_minutes": round(meta.get("wall_time", 0) / 60, 1), "iterations": meta.get("iterations"),
            "samples": report["samples"], "steps": report["steps"], "rise": report["rise"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", help="comma-separated recipe names")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--skip-trained", action="store_true", help="re-export and re-evaluate existing runs")
    mode.add_argument("--evaluate-only", action="store_true", help="only re-evaluate the bundled models in web/models")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    recipes = load_recipes()

    if args.worker:  # child process: one recipe, JSON result on stdout
        recipe = next(r for r in recipes if r["name"] == args.worker)
        print(json.dumps(build_one(recipe, args.threads, args.skip_trained, args.evaluate_only)), flush=True)
        return 0

    wanted = set(args.only.split(",")) if args.only else {r["name"] for r in recipes}
    queue = [r for r in recipes if r["name"] in wanted]
    running: list[tuple[str, subprocess.Popen]] = []
    failed = []
    while queue or running:
        while queue and len(running) < args.jobs:
            recipe = queue.pop(0)
            RUNS.mkdir(parents=True, exist_ok=True)
            log = (RUNS / f"{recipe['name']}.log").open("w")
            cmd = [sys.executable, __file__, "--worker", recipe["name"], "--threads", str(args.threads)]
            cmd += ["--skip-trained"] * args.skip_trained + ["--evaluate-only"] * args.evaluate_only
            running.append((recipe["name"], subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)))
            print(f"started {recipe['name']}", flush=True)
        time.sleep(2)
        for name, proc in list(running):
            if proc.poll() is None:
                continue
            running.remove((name, proc))
            out = proc.stdout.read().strip().splitlines()
            if proc.returncode == 0 and out:
                result = json.loads(out[-1])
                # Re-read before writing: another build.py may have finished a model meanwhile.
                report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
                report[name] = result
                REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
                at = result["steps"]
                print(f"done {name} in {result['minutes']} min (training {result['train_minutes']} min): style ratio "
                      + ", ".join(f"{k}: {v['style_ratio']:.4f}" for k, v in at.items())
                      + f"; scale {at['2000']['scale_ratio']:.2f}", flush=True)
            else:
                failed.append(name)
                print(f"FAILED {name}: see {RUNS / (name + '.log')}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
