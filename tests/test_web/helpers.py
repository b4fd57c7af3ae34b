"""Bundles for studio tests: small hand-built NCAs whose behaviour is known.

`textured_model(target)` pulls every cell towards a fixed state `target` (dx = -k (x - target)
through two ReLU units per channel), clamps the state softly to target +- a (two more ReLU
units per channel), and stirs it with random units that read only the Sobel and Laplacian
features. From the all-zero seed it grows, within ~100 steps, a bounded, ever-changing
texture whose colour statistics do not drift; an erased disc regrows to the same statistics,
so a test can check repair with plain means. Different targets make visibly different models.
"""

from __future__ import annotations

from pathlib import Path

import torch

from exporter import export
from nca.config import ModelConfig
from nca.model import NCA
from tests.conftest import write_checkpoint

TARGETS = {
    "amber": (0.35, 0.05, -0.35),
    "teal": (-0.35, 0.2, 0.15),
    "violet": (0.1, -0.3, 0.4),
}


def textured_model(target_rgb, channels: int = 8, extra: int = 8, rate: float = 0.05, band: float = 0.25,
                   clamp: float = 0.5, stir_in: float = 2.0, stir_out: float = 0.05, seed: int = 0) -> NCA:
    c = channels
    hidden = 4 * c + extra
    gen = torch.Generator().manual_seed(seed)
    model = NCA(ModelConfig(channels=c, hidden=hidden))
    target = torch.zeros(c)
    target[:3] = torch.tensor(target_rgb)
    target[3:] = 0.3 * torch.randn(c - 3, generator=gen)
    with torch.no_grad():
        model.w1.zero_()
        model.b1.zero_()
        model.w2.zero_()
        for i in range(c):  # identity features are 0..C-1
            model.w1[i, i], model.b1[i] = 1.0, -target[i]  # relu(x - t)
            model.w1[c + i, i], model.b1[c + i] = -1.0, target[i]  # relu(t - x)
            model.w2[i, i], model.w2[i, c + i] = -rate, rate
            model.w1[2 * c + i, i], model.b1[2 * c + i] = 1.0, -target[i] - band  # relu(x - t - a)
            model.w1[3 * c + i, i], model.b1[3 * c + i] = -1.0, target[i] - band  # relu(t - a - x)
            model.w2[i, 2 * c + i], model.w2[i, 3 * c + i] = -clamp, clamp
        stir = slice(4 * c, hidden)
        model.w1[stir, c:] = stir_in * torch.randn(extra, 3 * c, generator=gen)  # gradient features only
        model.w2[:, stir] = stir_out * torch.randn(c, extra, generator=gen)
    return model


def make_bundle(out_dir: Path, name: str, target_rgb=None, seed: int = 0, style_rgb=None,
                verdict: str | None = None) -> Path:
    """Export a textured model as bundle `out_dir/<name>/`; returns the bundle directory.
    `style_rgb` stores a striped style image of that colour in the checkpoint (the thumbnail's
    inset); `verdict` stores a quality check with that verdict (the card's badge)."""
    model = textured_model(target_rgb or TARGETS[name], seed=seed)
    ckpt = out_dir.parent / f".ckpt-{out_dir.name}-{name}" / "checkpoint.pt"
    meta = {"iterations": 0, "final_loss": 0.0, "style_name": f"{name}.png"}
    if verdict is not None:
        meta["evaluation"] = {"verdict": verdict, "reasons": [], "steps": {}}
    style = None
    if style_rgb is not None:
        style = torch.tensor(style_rgb, dtype=torch.uint8).expand(48, 48, 3).clone()
        style[::6] = 255  # white stripes: a texture of sorts
    write_checkpoint(ckpt, model, meta=meta, style=style)
    return export(ckpt, out_dir, name=name, thumbnail_steps=120)
