"""Which bundled models graft well together: writes web/models/grafts.json, read by the studio.

For every pair of bundled models with the same channel count, one state grows from the seed with
the left half running the first model and the right half the second (a soft seam of 1/8 of the
width on each side, the torus' wrap included), as the page's graft brush does (nca/fields.py). Each
half's middle is then judged against its own model's style image; a pair grafts well when both
halves meet the bar's style ratio at that step and nothing diverged at the seams.

    python gallery/grafts.py               # all pairs of web/models, 1000 steps at 128x128
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca import fields  # noqa: E402
from nca.checkpoint import load_checkpoint  # noqa: E402
from nca.evaluate import style_figures  # noqa: E402
from nca.files import write_atomic  # noqa: E402
from nca.model import to_rgb  # noqa: E402
from nca.verdict import MAX_STYLE  # noqa: E402
from nca.vgg import VGGFeatures  # noqa: E402

MODELS = REPO / "web" / "models"
OUT = MODELS / "grafts.json"


def half_field(size: int) -> torch.Tensor:
    """Mix 1 on the right half, 0 on the left, with linear seams 1/8 of the width wide (at 1/2 and, wrapping, at 0)."""
    f = fields.uniform_field(size, size)
    col = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    d = (col - 0.75).abs()
    d = torch.minimum(d, 1.0 - d)  # distance from the right half's middle, around the torus
    f[3] = ((0.3125 - d) / 0.125).clamp(0.0, 1.0)[None, :].expand(size, size).float()
    return f


@torch.no_grad()
def judge(a: str, b: str, size: int, steps: int, vgg: VGGFeatures) -> dict:
    ca, cb = load_checkpoint(MODELS / a), load_checkpoint(MODELS / b)
    ma, mb = ca.build_model("cpu"), cb.build_model("cpu")
    field = half_field(size)
    gen = torch.Generator().manual_seed(0)
    x = ma.seed(1, size, size)
    for _ in range(steps):
        x = fields.field_step(ma, x, field, other=mb, generator=gen)
    rgb = to_rgb(x)
    w = size // 4  # the middle quarter of each half's width, full height: away from both seams
    crops = {"a": (ca, rgb[..., size // 8:size // 8 + w]), "b": (cb, rgb[..., size // 2 + size // 8:size // 2 + size // 8 + w])}
    result = {"a": a, "b": b, "steps": steps, "size": size, "finite": bool(torch.isfinite(x).all())}
    for side, (ckpt, crop) in crops.items():
        figures = style_figures(ckpt, vgg)
        result[f"style_ratio_{side}"] = round(figures(crop)["style_ratio"], 4)
    ok = result["finite"] and all(result[k] <= MAX_STYLE for k in ("style_ratio_a", "style_ratio_b")
                                  if not math.isnan(result[k]))
    result["verdict"] = "good" if ok else "poor"
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = sorted(p.parent.name for p in MODELS.glob("*/model.json"))
    channels = {n: json.loads((MODELS / n / "model.json").read_text())["channels"] for n in names}
    vgg = VGGFeatures()
    pairs = []
    for a, b in itertools.combinations(names, 2):
        if channels[a] != channels[b]:
            continue
        pairs.append(judge(a, b, args.size, args.steps, vgg))
        print(json.dumps(pairs[-1]), flush=True)
    write_atomic(OUT, json.dumps({"pairs": pairs}, indent=2) + "\n")
    print(f"wrote {OUT}: {sum(p['verdict'] == 'good' for p in pairs)} of {len(pairs)} pairs graft well")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
