"""Does a perception scale (NoiseNCA's dx) make a model's texture smoothly larger or smaller?

Grows a trained model from the seed with every cell's Sobel pair multiplied by k and its
Laplacian by k^2 (a grid k times finer seen by the same network: features k times as large)
and reports, per k, the evaluation's scale ratio against the style (1.0 = the style's feature
size; the ideal is 1/k) and the style ratio against the style resized by k (what a texture k
times as large should look like; nca.train's --scale-range trains for it). With --gradient it
also grows one canvas under the scale field's gradient preset and reports the scale ratio of
its vertical bands, left to right: a scale brush needs them to follow the field.

    python bench/field_scale.py web/models/leopard-scales --ks 0.67,0.82,1,1.22,1.5 --gradient
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca import fields  # noqa: E402
from nca.checkpoint import load_checkpoint  # noqa: E402
from nca.evaluate import Figures, spectrum_centroid, style_tensor  # noqa: E402
from nca.image import image_to_tensor, scaled_style, tensor_to_image  # noqa: E402
from nca.model import fire_mask, to_rgb  # noqa: E402
from nca.vgg import VGGFeatures  # noqa: E402

BANDS = 4


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


@torch.no_grad()
def gradient_bands(nca, style, size, steps, lo, hi, gen):
    """Scale ratio of each of BANDS vertical bands of a 2size x size canvas under the gradient preset,
    beside the ideal 1/k of the band's mean k."""
    h, w = size, 2 * size
    field = fields.set_scale(fields.uniform_field(h, w), fields.scale_factors("gradient", h, w, lo, hi))
    x = nca.seed(1, h, w)
    for _ in range(steps):
        x = fields.field_step(nca, x, field, generator=gen)
    rgb, ks, base = to_rgb(x), fields.scales(field)[0], spectrum_centroid(style)
    band = w // BANDS
    return [(float(ks[i * band:(i + 1) * band].mean()),
             spectrum_centroid(rgb[..., i * band:(i + 1) * band]) / base) for i in range(BANDS)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--ks", default="0.67,0.82,1,1.22,1.5")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--sobel-only", action="store_true", help="scale the Sobel pair only, not the Laplacian")
    ap.add_argument("--gradient", action="store_true", help="also grow a canvas under the scale gradient preset")
    ap.add_argument("--lo", type=float, default=0.67, help="the gradient's scale at the left edge")
    ap.add_argument("--hi", type=float, default=1.5, help="the gradient's scale at the right edge")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ckpt = load_checkpoint(args.model)
    nca = ckpt.build_model("cpu")
    vgg = VGGFeatures(pool=ckpt.train_config.vgg_pool)
    style = style_tensor(ckpt)
    against_style = Figures(style, vgg)
    print("| k | scale ratio | ideal 1/k | style ratio vs the style resized by k | style ratio vs the style |")
    print("| --- | --- | --- | --- | --- |")
    for k in (float(v) for v in args.ks.split(",")):
        gen = torch.Generator().manual_seed(0)
        x = scaled_rollout(nca, nca.seed(args.samples, args.size, args.size), args.steps, k, args.sobel_only, gen)
        resized = image_to_tensor(scaled_style(tensor_to_image(style), k))
        f, g = Figures(resized, vgg)(to_rgb(x)), against_style(to_rgb(x))
        print(f"| {k:g} | {g['scale_ratio']:.2f} | {1 / k:.2f} | {f['style_ratio']:.4f} | {g['style_ratio']:.4f} |",
              flush=True)
    if args.gradient:
        bands = gradient_bands(nca, style, args.size, args.steps, args.lo, args.hi, torch.Generator().manual_seed(0))
        print(f"\ngradient {args.lo:g} -> {args.hi:g} on {2 * args.size}x{args.size}, step {args.steps}, "
              f"{BANDS} bands left to right:")
        print("| band | mean k | scale ratio | ideal 1/k |\n| --- | --- | --- | --- |")
        for i, (k, ratio) in enumerate(bands):
            print(f"| {i + 1} | {k:.2f} | {ratio:.2f} | {1 / k:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
