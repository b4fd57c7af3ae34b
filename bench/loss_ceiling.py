"""What the training loss asks for: an image optimised pixel by pixel against a preset's style loss,
beside the style and a quality suite's rollout (not a test).

A texture NCA can at best grow what its loss rewards. Optimising a free image against the same loss
(Gatys' texture synthesis) finds that: where the optimum lacks the style's shapes (whole coins, closed
rings) no preset or seed can grow them and only another loss would; where the optimum has them and the
rollout does not, the model or its training falls short. The optimum must be converged for that
(L-BFGS, the default): Adam's 300 steps stop short of the shapes. Each image is judged with
`nca evaluate`'s figures. Writes rows/<image>.png (style, optimum, and with --suite its rollout at
the verdict's step), rows/<image>.json, results.json, results.md and contact_sheet.png; notes.json
is written by hand ({image stem: what a person saw}). A finished image is not redone.

    python bench/loss_ceiling.py --suite docs/quality/fast-stop --out docs/quality/loss-ceiling-lbfgs
    python bench/loss_ceiling.py --images coins,redrings --loss swd --out /tmp/ceiling-swd
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.config import DEFAULT_PRESET, LOSSES, PRESETS  # noqa: E402
from nca.evaluate import Figures  # noqa: E402
from nca.image import image_to_tensor, load_style, tensor_to_image, tile  # noqa: E402
from nca.previews import image_grid  # noqa: E402
from nca.sweep.results import contact_sheet  # noqa: E402
from nca.sweep.trial import STRIP_PAD  # noqa: E402
from nca.verdict import reference_step  # noqa: E402
from nca.vgg import StyleLoss, VGGFeatures  # noqa: E402

STYLES = REPO / "gallery" / "styles"
SIZE = 128  # the size `nca evaluate` and the suite judge at
ROW_PLACES = 5  # decimals of the figures a row stores
OPTIMIZERS = ("lbfgs", "adam")  # the first is the default


def optimum(loss: StyleLoss, target: torch.Tensor, iterations: int, lr: float, seed: int,
            optimizer: str) -> torch.Tensor:
    """The image of the target's size that minimises `loss`, from its mean colour plus a little noise.

    Optimised on logits, so the image stays in (0, 1) without clamping. With "lbfgs", `iterations` counts
    loss evaluations (Gatys' optimiser): it goes far lower than Adam's 300 steps, and only there do
    long lines and whole rings appear."""
    gen = torch.Generator().manual_seed(seed)
    mean = target.mean(dim=(2, 3), keepdim=True).clamp(0.02, 0.98)
    logits = (torch.logit(mean) + 0.1 * (2 * torch.rand(target.shape, generator=gen) - 1)).requires_grad_()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss(torch.sigmoid(logits), gen)
        value.backward()
        return value

    if optimizer == "lbfgs":  # one step runs the whole search
        opt = torch.optim.LBFGS([logits], lr=1, max_iter=iterations, max_eval=iterations, history_size=50,
                                line_search_fn="strong_wolfe")
        opt.step(closure)
    else:
        opt = torch.optim.Adam([logits], lr=lr)
        for _ in range(iterations):
            opt.step(closure)
    return torch.sigmoid(logits).detach()


def suite_tile(suite: Path, suite_rows: list[dict[str, Any]], stem: str) -> tuple[Image.Image, dict[str, Any]] | None:
    """A suite's rollout of `stem` (seed 0, else its first trial) at the verdict's step, with its figures."""
    rows = sorted((r for r in suite_rows if Path(r["image"]).stem == stem), key=lambda r: r["seed"] != 0)
    if not rows or not (suite / "rows" / f"{rows[0]['name']}.png").is_file():
        return None
    row = rows[0]
    counts = sorted(int(n) for n in row["steps"])
    step = reference_step(counts)
    with Image.open(suite / "rows" / f"{row['name']}.png") as f:
        strip = f.convert("RGB")
    size = strip.height
    x = (1 + counts.index(step)) * (size + STRIP_PAD)  # the strip is the style, then one image per step
    return strip.crop((x, 0, x + size, size)), {"trial": row["name"], "step": step, "verdict": row["verdict"],
                                                **row["steps"][str(step)]}


def ceiling(image: Path, args: argparse.Namespace, vgg: VGGFeatures,
            suite_rows: list[dict[str, Any]]) -> tuple[dict[str, Any], Image.Image]:
    cfg = PRESETS[args.preset][1]
    style_img, _ = load_style(image, cfg.style_size)
    style = image_to_tensor(style_img)
    target = tile(style, SIZE, SIZE)
    loss = StyleLoss(vgg, style, kind=args.loss or cfg.loss, layer_weights=cfg.layer_weights,
                     balance=cfg.gram_balance)  # the training loss, against the untiled style as training has it
    start = time.perf_counter()
    best = optimum(loss, target, args.iterations, args.lr, args.seed, args.optimizer)
    row = {"image": image.stem, "preset": args.preset, "loss": loss.kind, "balance": cfg.gram_balance,
           "optimizer": args.optimizer, "iterations": args.iterations,
           "minutes": round((time.perf_counter() - start) / 60, 2),
           "optimum": {k: round(v, ROW_PLACES) for k, v in Figures(style, vgg)(best).items()}}
    tiles = [tensor_to_image(target), tensor_to_image(best)]
    found = suite_tile(args.suite, suite_rows, image.stem) if args.suite else None
    if found:
        tiles.append(found[0])
        row["suite"] = found[1]
    return row, image_grid(tiles, pad=STRIP_PAD)


def _ratio(value: float, places: int) -> str:
    """Fixed places, or two significant digits where those would round a converged optimum to zero."""
    if value >= 10 ** -(places - 1):
        return f"{value:.{places}f}"
    return f"{value:.1e}" if value > 0 else f"< 1e-{ROW_PLACES}"


def _fig(d: dict[str, Any]) -> str:
    return f"{_ratio(d['style_ratio'], 4)} / {_ratio(d['balanced_ratio'], 3)} / {d['scale_ratio']:.2f}"


def write_tables(out: Path) -> None:
    rows = [json.loads(p.read_text()) for p in sorted((out / "rows").glob("*.json"))]
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    notes_path = out / "notes.json"
    notes = json.loads(notes_path.read_text()) if notes_path.is_file() else {}
    lines = ["Style ratio / balanced ratio / scale of the loss's optimum (pixels optimised against the training "
             "loss) and of the suite's rollout at the verdict's step; the same figures as `nca evaluate`.", "",
             "| image | loss | optimum | rollout | rollout's verdict | seen |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        s = r.get("suite")
        rollout, judged = (f"{_fig(s)} (step {s['step']})", s["verdict"]) if s else ("-", "-")
        lines.append(f"| {r['image']} | {r['loss']} ({r['balance']}), {r.get('optimizer', 'adam')} "
                     f"{r['iterations']} it | {_fig(r['optimum'])} | "
                     f"{rollout} | {judged} | {notes.get(r['image'], '')} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    contact_sheet(out, [{"name": r["image"], **r} for r in rows],
                  label_of=lambda r: f"{r['image']}: style | loss optimum" + (" | rollout" if r.get("suite") else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS), help="whose loss and style size")
    ap.add_argument("--loss", default="", choices=["", *LOSSES], help="another loss than the preset's")
    ap.add_argument("--images", default="", help="comma-separated stems of gallery/styles images (default: all)")
    ap.add_argument("--suite", type=Path, default=None, help="a quality suite's results directory to show beside")
    ap.add_argument("--out", type=Path, required=True, help="results directory")
    ap.add_argument("--optimizer", default=OPTIMIZERS[0], choices=OPTIMIZERS, help="how the pixels are optimised")
    ap.add_argument("--iterations", type=int, default=1250, help="optimiser steps on the pixels (L-BFGS: loss "
                                                                  "evaluations)")
    ap.add_argument("--lr", type=float, default=0.05, help="Adam's learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--tables-only", action="store_true", help="rebuild the tables and the sheet from the rows")
    args = ap.parse_args()
    if args.tables_only:
        write_tables(args.out)
        return 0
    stems = [s.strip() for s in args.images.split(",") if s.strip()]
    images = [STYLES / f"{s}.png" for s in stems] if stems else sorted(STYLES.glob("*.png"))
    missing = [p.stem for p in images if not p.is_file()]
    if missing:
        raise SystemExit(f"error: no such image in {STYLES}: {', '.join(missing)}")
    if args.suite and not (args.suite / "results.json").is_file():
        raise SystemExit(f"error: {args.suite} has no results.json: not a quality suite's results directory")
    if args.threads:
        torch.set_num_threads(args.threads)
    (args.out / "rows").mkdir(parents=True, exist_ok=True)
    vgg = VGGFeatures()
    suite_rows = json.loads((args.suite / "results.json").read_text()) if args.suite else []
    for image in images:
        done = args.out / "rows" / f"{image.stem}.json"
        if done.is_file():
            continue
        row, strip = ceiling(image, args, vgg, suite_rows)
        strip.save(args.out / "rows" / f"{image.stem}.png")
        done.write_text(json.dumps(row, indent=1) + "\n")  # last: a row with its json is finished
        print(f"{image.stem}: optimum {_fig(row['optimum'])} ({row['minutes']} min)", flush=True)
    write_tables(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
