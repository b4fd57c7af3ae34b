"""Quality check of a trained model: how close is the texture it grows to its style image?

The figures measure a rollout from the seed against the style image as training saw it (at
its training scale, untiled: a tiled copy of an image that does not repeat seamlessly has other
statistics, and would judge even the style itself poor):
  * style ratio: the plain Gram style loss (relu1_1..relu5_1, each Gram normalised by H*W,
    squared differences summed with equal weights) of the rollout / the same loss for a flat
    image of the style's mean colour. 0 is perfect; another texture scores ~0.7-18, a
    blurred copy of the style ~0.8. The plain sum is dominated by the shallow layers (colour,
    fine detail), so `balanced_ratio` repeats it with every layer divided by its target
    Gram's mean square (the `--gram-balance layer` training loss): another texture ~0.9-6.
  * scale ratio: centroid of the radially averaged luminance power spectrum of the rollout /
    that of the style. The Gram ratio is blind to feature size; 1.0 means features of
    the same size, 1.7 means 1.7x too small.
  * contrast: the rollout's spatial standard deviation / the style's (0 = flat or black).
`nca.verdict` turns the figures into good / drifts / poor / failed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from . import exits
from .checkpoint import Checkpoint, load_checkpoint
from .image import tensor_to_image, tile
from .model import pick_device, to_rgb
from .previews import image_grid
from .rollouts import make_rollout
from .verdict import describe, verdict
from .vgg import StyleLoss, VGGFeatures, flat_image

CHECK_SAMPLES = 4  # rollouts of the short check every training ends with (steps: TrainConfig.check_steps)
COMPILE_FROM = 10**8  # cell updates (samples x cells x steps) from which compiling the step pays for itself


def style_tensor(ckpt: Checkpoint) -> torch.Tensor:
    if ckpt.style_image is None:
        raise ValueError(f"{ckpt.path} carries no style image; cannot evaluate it")
    return ckpt.style_image.permute(2, 0, 1).unsqueeze(0).float() / 255.0


def spectrum_centroid(rgb: torch.Tensor) -> float:
    """Power-weighted mean spatial frequency (cycles/pixel) of the luminance, DC excluded."""
    lum = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).double()
    lum = lum - lum.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(lum).abs().square().mean(0)
    h, w = power.shape
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    radius = torch.sqrt(fy.square() + fx.square())
    total = power.sum()
    if total <= 0:
        return 0.0
    # Summing r * P over the 2-D plane equals averaging radially and weighting each ring by its power.
    return float((radius * power).sum() / total)


def contrast(rgb: torch.Tensor) -> float:
    """Mean spatial standard deviation of the colour channels."""
    return float(rgb.std(dim=(2, 3)).mean())


class Figures:
    """The evaluation's figures of image batches against one style image (of any size: the Gram
    matrices are normalised by the image's area, the spectrum centroid is in cycles per pixel)."""

    def __init__(self, target: torch.Tensor, vgg: VGGFeatures):
        self.vgg = vgg
        self.loss = StyleLoss(vgg, target, kind="gram")
        flat_feats = vgg(flat_image(target))
        self.flat_loss = float(self.loss.raw_gram_loss(flat_feats))
        self.flat_balanced = float(self.loss.gram_loss(flat_feats))
        self.centroid = spectrum_centroid(target.cpu())
        self.contrast = contrast(target)

    @torch.no_grad()
    def __call__(self, rgb: torch.Tensor) -> dict[str, float]:
        """Figures of `rgb` (B x 3 x H x W in [0, 1]), averaged over the batch."""
        feats = self.vgg(rgb)
        return {
            "style_ratio": float(self.loss.raw_gram_loss(feats)) / self.flat_loss,
            "balanced_ratio": float(self.loss.gram_loss(feats)) / self.flat_balanced,
            "scale_ratio": spectrum_centroid(rgb.cpu()) / self.centroid if self.centroid > 0 else math.nan,
            "contrast": contrast(rgb) / self.contrast if self.contrast > 0 else math.nan,
        }


def style_figures(ckpt: Checkpoint, vgg: VGGFeatures, device: str | torch.device = "cpu") -> Figures:
    """The figures against `ckpt`'s style as training saw it, untiled (see the module's docstring)."""
    return Figures(style_tensor(ckpt).to(device), vgg)


@torch.no_grad()
def evaluate(model: str | Path | Checkpoint, size: int = 128, steps: tuple[int, ...] = (500, 2000, 5000),
             seed: int = 0, device: str = "auto", vgg: VGGFeatures | None = None,
             samples: int = 8) -> dict[str, Any]:
    """Roll `samples` states out from the seed together and average their figures: one rollout's
    ratio jitters from step to step enough to fake a rise (docs/quality-notes.md)."""
    ckpt = model if isinstance(model, Checkpoint) else load_checkpoint(model)
    dev = pick_device(device)
    nca = ckpt.build_model(dev)
    vgg = (vgg or VGGFeatures(ckpt.train_config.vgg_weights or None, pool=ckpt.train_config.vgg_pool)).to(dev)
    figures = style_figures(ckpt, vgg, dev)

    gen = torch.Generator(device=dev).manual_seed(seed)
    x = nca.seed(samples, size, size, noise=ckpt.train_config.seed_noise, generator=gen)  # as it was trained
    compile_step = samples * size * size * max(steps) >= COMPILE_FROM
    rollout = make_rollout(nca, compile_step)
    results: dict[int, dict[str, float]] = {}
    frames = {}
    done = 0
    for n in sorted(steps):
        x = rollout(x, n - done, gen)
        done = n
        rgb = to_rgb(x)
        results[n] = figures(rgb)
        frames[n] = tensor_to_image(rgb[:1])
    return {
        "model": str(ckpt.path),
        "size": size,
        "samples": samples,
        "steps": results,
        **verdict(results),
        "flat_loss": figures.flat_loss,
        "frames": frames,
        "target": tensor_to_image(tile(style_tensor(ckpt), size, size)),  # the style beside the rollouts
    }


def check(ckpt: Checkpoint, device: str = "auto", vgg: VGGFeatures | None = None) -> dict[str, Any]:
    """The short evaluation a run ends with: figures per step count and the verdict, JSON-ready.
    `vgg`: the run's own network, so the weights are not read from disk a second time."""
    report = evaluate(ckpt, steps=ckpt.train_config.check_steps, samples=CHECK_SAMPLES, device=device, vgg=vgg)
    return summary(report)


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """An evaluation report without its pictures, rounded, with string keys (JSON and torch.save)."""
    return {
        "verdict": report["verdict"],
        "reasons": report["reasons"],
        "samples": report["samples"],
        "size": report["size"],
        "steps": {str(n): {k: round(v, 5) for k, v in r.items()} for n, r in report["steps"].items()},
        "rises": {str(n): round(v, 4) for n, v in report["rises"].items()},
    }


def run_cli(args: argparse.Namespace) -> int:
    try:
        steps = tuple(sorted({int(s) for s in args.steps.split(",") if s.strip()}))
    except ValueError:
        print(f"error: --steps takes comma-separated whole numbers, got {args.steps!r}", file=sys.stderr)
        return exits.USER_ERROR
    if not steps or steps[0] < 1:
        print("error: --steps needs at least one step count >= 1", file=sys.stderr)
        return exits.USER_ERROR
    vgg = None
    for path in args.model:
        report = evaluate(path, size=args.size, steps=steps, seed=args.seed, device=args.device, vgg=vgg,
                          samples=args.samples)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            pictures = [report["target"]] + [report["frames"][n] for n in steps]
            stem = Path(path).name if Path(path).is_dir() else Path(path).parent.name
            image_grid([p.resize((p.width * 2, p.height * 2), Image.Resampling.NEAREST) for p in pictures],
                       pad=4).save(args.save / f"{stem}.png")
        if args.json:
            slim = {k: v for k, v in report.items() if k not in ("frames", "target")}
            print(json.dumps(slim))
            continue
        print(f"{report['model']}  ({args.samples} x {args.size}x{args.size}, rise {report['rises'].get(steps[-1], 0.0) * 100:+.0f}% "
              f"from step {steps[0]} to {steps[-1]})")
        for n, r in report["steps"].items():
            print(f"  step {n:>6}: style ratio {r['style_ratio']:.4f}   balanced {r['balanced_ratio']:.4f}"
                  f"   scale ratio {r['scale_ratio']:.2f}   contrast {r['contrast']:.2f}")
        print(f"  verdict: {describe(report)}")
    return 0
