"""Quality suite: train one preset on many style images, evaluate each far into its future, judge it.

For every image (and seed) it trains `nca.train` with the preset and overrides, grows SAMPLES
states of 128x128 from the seed to each step count in STEPS, and records the style and scale
ratios, the training wall time and the verdict (nca/verdict.py). Results go to --out:
  rows/<image>-s<seed>.json   one row per trained image (the suite skips a row that exists)
  rows/<image>-s<seed>.png    the style tiled to 128x128 beside the rollouts at each step count
  results.json, results.md    every row, rebuilt after each one
  contact_sheet.png           the strips of every row, labelled with name and verdict
  notes.json                  (written by hand) {image stem: what a person saw, why it fails, what fixes it}
Runs live under --runs (a finished run is evaluated again, not retrained), so a suite
interrupted by Ctrl-C or spread over several sessions picks up where it stopped. Two suites
writing to the same --out (e.g. two at --threads 1 on disjoint --images) do not clash.

    python bench/quality_suite.py --preset quick --out docs/quality/quick
    python bench/quality_suite.py --preset quick --set iterations=500 --images leopard,gold --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from nca.checkpoint import CHECKPOINT_NAME, load_checkpoint  # noqa: E402
from nca.config import PRESETS, ConfigError  # noqa: E402
from nca.config import preset as get_preset  # noqa: E402
from nca.evaluate import evaluate, summary  # noqa: E402
from nca.previews import image_grid  # noqa: E402
from nca.train import train  # noqa: E402

STYLES = REPO / "gallery" / "styles"
STEPS = (500, 2000, 5000, 20000)
SAMPLES = 4  # 8 as `nca evaluate` uses would double the 20000-step rollouts (~3 min each at 2 threads)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"error: --set takes KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    try:
        get_preset("quick", **out)  # unknown keys and bad values fail here, before any training
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    return out


def row_name(image: Path, seed: int) -> str:
    return f"{image.stem}-s{seed}"


def run_one(image: Path, seed: int, args: argparse.Namespace, overrides: dict[str, Any]) -> dict[str, Any]:
    run_dir = args.runs / row_name(image, seed)
    model_cfg, train_cfg = get_preset(args.preset, **overrides, seed=seed, threads=args.threads)
    ckpt_path = run_dir / CHECKPOINT_NAME
    done = ckpt_path.is_file() and load_checkpoint(ckpt_path).meta.get("iterations") == train_cfg.iterations
    if not done:
        train(image, run_dir, model_config=model_cfg, train_config=train_cfg, resume=ckpt_path.is_file() and
              (run_dir / "resume.pt").is_file(), quiet=args.quiet, device=args.device)
    ckpt = load_checkpoint(ckpt_path)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    report = evaluate(ckpt, size=128, steps=args.steps, samples=SAMPLES, device=args.device)
    strip = image_grid([report["target"]] + [report["frames"][n] for n in args.steps], pad=4)
    strip.save(args.out / "rows" / f"{row_name(image, seed)}.png")
    return {
        "image": image.name,
        "seed": seed,
        "preset": args.preset,
        "overrides": overrides,
        "train_minutes": round(ckpt.meta.get("wall_time", 0.0) / 60, 2),
        "threads": args.threads,
        "selected_iteration": ckpt.meta.get("selected_iteration"),
        **summary(report),
        "evaluate_minutes": round((time.perf_counter() - t0) / 60, 2),
        "run": str(run_dir),
        "date": time.strftime("%Y-%m-%d"),
    }


def load_rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((out / "rows").glob("*.json"))]


def markdown(rows: list[dict[str, Any]], notes: dict[str, str] | None = None) -> str:
    notes = notes or {}
    good = sum(r["verdict"] == "good" for r in rows)
    lines = [
        f"{good} of {len(rows)} good. Style ratio (0 = the style's own statistics, 1 = a flat image of its mean "
        "colour) at each step count; its rise from the first step count; scale at step 2000 "
        "(1.0 = features of the style's size).",
        "",
        "| image | seed | train min | style ratio at " + " / ".join(map(str, STEPS)) + " | rise to "
        + " / ".join(map(str, STEPS[2:])) + " | scale | verdict | seen |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        ratios = " / ".join(f"{v['style_ratio']:.4f}" for _, v in sorted(r["steps"].items(), key=lambda kv: int(kv[0])))
        rises = " / ".join(f"{v * 100:+.0f}%" for _, v in sorted(r["rises"].items(), key=lambda kv: int(kv[0])))
        scale = r["steps"].get("2000", {}).get("scale_ratio", float("nan"))
        why = f" ({'; '.join(r['reasons'])})" if r["reasons"] else ""
        stem = Path(r["image"]).stem
        lines.append(f"| {stem} | {r['seed']} | {r['train_minutes']:.1f} | {ratios} | {rises} | "
                     f"{scale:.2f} | {r['verdict']}{why} | {notes.get(stem, '')} |")
    return "\n".join(lines) + "\n"


def contact_sheet(out: Path, rows: list[dict[str, Any]]) -> None:
    strips = []
    for r in rows:
        path = out / "rows" / f"{Path(r['image']).stem}-s{r['seed']}.png"
        if not path.is_file():
            continue
        with Image.open(path) as f:
            strip = f.convert("RGB")
        label = Image.new("RGB", (strip.width, 16), (255, 255, 255))
        ImageDraw.Draw(label).text((2, 2), f"{Path(r['image']).stem} seed {r['seed']}: {r['verdict']}", fill=(0, 0, 0))
        strips.append((label, strip))
    if not strips:
        return
    width = max(s.width for _, s in strips)
    sheet = Image.new("RGB", (width, sum(lbl.height + s.height + 6 for lbl, s in strips)), (255, 255, 255))
    y = 0
    for label, strip in strips:
        sheet.paste(label, (0, y))
        sheet.paste(strip, (0, y + label.height))
        y += label.height + strip.height + 6
    sheet.save(out / "contact_sheet.png")


def write_tables(out: Path) -> list[dict[str, Any]]:
    rows = load_rows(out)
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    notes_path = out / "notes.json"
    notes = json.loads(notes_path.read_text()) if notes_path.is_file() else {}
    (out / "results.md").write_text(markdown(rows, notes))
    contact_sheet(out, rows)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="quick", choices=list(PRESETS))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a training option (JSON value), e.g. --set iterations=500")
    ap.add_argument("--images", default="", help="comma-separated stems of gallery/styles images (default: all)")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds")
    ap.add_argument("--out", type=Path, default=None, help="results directory (default docs/quality/<preset>)")
    ap.add_argument("--runs", type=Path, default=None, help="run directories (default runs/suite-<preset>)")
    ap.add_argument("--steps", default=",".join(map(str, STEPS)), help="step counts to evaluate at")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--tables-only", action="store_true", help="rebuild the tables and the sheet from the rows")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    overrides = parse_overrides(args.set)
    args.steps = tuple(sorted(int(n) for n in args.steps.split(",")))
    args.out = args.out or REPO / "docs" / "quality" / args.preset
    args.runs = args.runs or REPO / "runs" / f"suite-{args.preset}"
    (args.out / "rows").mkdir(parents=True, exist_ok=True)
    if args.tables_only:
        write_tables(args.out)
        return 0
    stems = [s for s in args.images.split(",") if s.strip()]
    images = [STYLES / f"{s.strip()}.png" for s in stems] if stems else sorted(STYLES.glob("*.png"))
    missing = [str(p) for p in images if not p.is_file()]
    if missing:
        raise SystemExit(f"error: no such style image: {', '.join(missing)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"error: --seeds takes comma-separated whole numbers, got {args.seeds!r}") from None
    for seed in seeds:
        for image in images:
            row_path = args.out / "rows" / f"{row_name(image, seed)}.json"
            if row_path.is_file():
                continue
            row = run_one(image, seed, args, overrides)
            row_path.write_text(json.dumps(row, indent=1) + "\n")
            rows = write_tables(args.out)
            print(f"{row_name(image, seed)}: {row['verdict']} {row['reasons']} "
                  f"(train {row['train_minutes']} min, evaluate {row['evaluate_minutes']} min); "
                  f"{sum(r['verdict'] == 'good' for r in rows)} of {len(rows)} good so far", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
