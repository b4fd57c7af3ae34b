"""Rebuild the bundled gallery: train every recipe, evaluate it, export it to web/models/.

    python gallery/build.py [--jobs 2] [--only leopard,rust] [--threads 1] [--retrain | --evaluate-only]
    python gallery/build.py --only leopard,pebbles,rust,gravel --seeds 1,2   # how reliable is the recipe?

Long (tens of CPU-minutes per model); not part of the tests. The recipes are the trials of one
sweep (nca/sweep: Ray tasks, --jobs at a time, one torch thread each by default: two 2-thread
processes on two cores spend most of their time waiting on each other's OpenMP barriers). A run
trained to its end in runs/gallery/ is judged and exported again, not retrained (--retrain does),
so a build interrupted with Ctrl-C goes on where it stopped.

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
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNS = REPO / "runs" / "gallery"
MODELS = REPO / "web" / "models"
REPORT = HERE / "quality.json"
SEEDS_REPORT = HERE / "seeds.json"
RECIPE_KEYS = {"name", "style", "preset"}
JUDGING = {"steps": (500, 2000, 5000), "samples": 8}


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


def trials(recipes: list[dict], seeds: list[int | None]):
    from nca.sweep import Trial

    return [Trial(HERE / "styles" / r["style"], 0 if seed is None else seed, r["preset"],
                  recipe_overrides(r), run_name(r, seed))
            for seed in seeds for r in recipes]


def figures_of(row: dict) -> dict:
    """A sweep row as gallery/quality.json records it."""
    keys = ("steps", "rises", "verdict", "reasons", "samples", "train_minutes", "iterations", "selected_iteration",
            "threads")
    return {"name": row["name"], **{k: row.get(k) for k in keys}}


def export_with_figures(source: Path, name: str, figures: dict) -> None:
    """Export `source`'s checkpoint as web/models/<name>, its figures as the bundle's verdict, from a
    copy, since the source may be that very bundle."""
    import exporter
    from nca.checkpoint import update_meta

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(source / "checkpoint.pt", Path(tmp) / "checkpoint.pt")
        update_meta(Path(tmp) / "checkpoint.pt", evaluation=figures)
        exporter.export(Path(tmp) / "checkpoint.pt", MODELS, name=name, force=True)


def evaluate_bundled(recipes: list[dict], threads: int) -> dict[str, dict]:
    """Judge the bundled models again (their checkpoints travel with them): no training, no sweep."""
    import torch

    from nca.evaluate import evaluate, summary

    torch.set_num_threads(threads)
    results = {}
    for recipe in recipes:
        report = evaluate(MODELS / recipe["name"], size=128, **JUDGING)
        figures = summary(report)
        export_with_figures(MODELS / recipe["name"], recipe["name"], figures)
        results[recipe["name"]] = {"name": recipe["name"], **figures, "threads": threads}
        print(f"{recipe['name']}: {figures['verdict']} {figures['reasons']}", flush=True)
    return results


def record(report_path: Path, results: dict[str, dict]) -> None:
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report.update(results)
    report_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="recipes trained at a time")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per recipe")
    ap.add_argument("--only", help="comma-separated recipe names")
    ap.add_argument("--seeds", help="comma-separated training seeds: retrain and evaluate each recipe with each "
                                    "(no export; figures go to gallery/seeds.json)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--retrain", action="store_true", help="train the recipes again from scratch")
    mode.add_argument("--evaluate-only", action="store_true", help="only re-evaluate the bundled models in web/models")
    ap.add_argument("--readme", action="store_true", help="only rewrite README.md's results table from quality.json")
    args = ap.parse_args()
    if args.readme:
        write_readme_table()
        return 0
    if args.seeds is not None and args.evaluate_only:
        ap.error("--seeds trains new runs; it cannot be combined with --evaluate-only")
    sys.path.insert(0, str(REPO))
    wanted = set(args.only.split(",")) if args.only else None
    recipes = [r for r in load_recipes() if wanted is None or r["name"] in wanted]
    if args.evaluate_only:
        record(REPORT, evaluate_bundled(recipes, args.threads))
        write_readme_table()
        return 0
    try:
        seeds = [None] if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    except ValueError:
        ap.error(f"--seeds takes comma-separated whole numbers, got {args.seeds!r}")
    from nca.sweep import Judging
    from nca.sweep.runner import run_sweep

    todo = trials(recipes, seeds)
    for t in todo:  # every build judges its runs afresh
        (RUNS / "rows" / f"{t.name}.json").unlink(missing_ok=True)
        if args.retrain:
            shutil.rmtree(RUNS / t.name, ignore_errors=True)
    rows = {r["name"]: r for r in run_sweep(todo, RUNS, Judging(**JUDGING), runs=RUNS, num_cpus=args.jobs * args.threads,
                                            cpus_per_trial=args.threads, threads=args.threads)}
    results, failed = {}, []
    for t in todo:
        row = rows[t.name]
        if row.get("status") != "done":
            failed.append(t.name)
            print(f"FAILED {t.name}: {row.get('error')}", flush=True)
            continue
        figures = figures_of(row)
        if args.seeds is None:
            export_with_figures(RUNS / t.name, t.name, {k: row[k] for k in ("verdict", "reasons", "samples", "size",
                                                                            "steps", "rises")})
        results[t.name] = figures
        print(f"done {t.name} (training {row.get('train_minutes')} min): style ratio "
              + ", ".join(f"{k}: {v['style_ratio']:.4f}" for k, v in row["steps"].items())
              + f"; verdict {row['verdict']}", flush=True)
    record(REPORT if args.seeds is None else SEEDS_REPORT, results)
    if not failed and args.seeds is None:
        write_readme_table()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
