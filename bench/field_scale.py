"""Does scaling the perception (NoiseNCA's dx) make today's textures larger or smaller?

Grows a trained model from the seed with every cell's Sobel pair multiplied by k and its
Laplacian by k^2 (a grid k times finer seen by the same network: features 1/k times larger),
and reports the evaluation's scale ratio (1.0 = the style's feature size; lower = larger
features) and style ratio per k. A smooth fall of the scale ratio with k is what a scale brush
would need.

    python bench/field_scale.py web/models/leopard --ks 0.5,0.7,1,1.4 --steps 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.checkpoint import load_checkpoint  # noqa: E402
from nca.evaluate import Figures, style_tensor  # noqa: E402
from nca.image import tile  # noqa: E402
from nca.model import fire_mask, to_rgb  # noqa: E402
from nca.vgg import VGGFeatures  # noqa: E402


@torch.no_grad()
def scaled_rollout(nca, x, steps, k, sobel_only, gen):
    c = nca.channels
    lap_k = k if sobel_only else k * k
    for _ in range(steps):
        s, gx, gy, lap = nca.perceive(x).split(c, dim=1)
        p = torch.cat([s, k * gx, k * gy, lap_k * lap], dim=1)
        hidden = F.relu(F.conv2d(p, nca.w1[:, :, None, None], nca.b1))
        x = x + F.conv2d(hidden, nca.w2[:, :, None, None]) * fire_mask(x, nca.cfg.fire_rate, gen)
    return x


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--ks", default="0.5,0.7,1,1.4")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--sobel-only", action="store_true", help="scale the Sobel pair only, not the Laplacian")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ckpt = load_checkpoint(args.model)
    nca = ckpt.build_model("cpu")
    figures = Figures(tile(style_tensor(ckpt), args.size, args.size), VGGFeatures(pool=ckpt.train_config.vgg_pool))
    print("| k | scale ratio | style ratio | balanced ratio |\n| --- | --- | --- | --- |")
    for k in (float(v) for v in args.ks.split(",")):
        gen = torch.Generator().manual_seed(0)
        x = scaled_rollout(nca, nca.seed(args.samples, args.size, args.size), args.steps, k, args.sobel_only, gen)
        f = figures(to_rgb(x))
        print(f"| {k:g} | {f['scale_ratio']:.2f} | {f['style_ratio']:.4f} | {f['balanced_ratio']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
