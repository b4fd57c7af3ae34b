"""The bundle's thumbnail.png: the texture as the PyTorch model grows it from the seed, with the
style image it was trained on as a small inset in the corner (when the checkpoint or run
directory holds one). The model's own render fills the card, so a failed training looks failed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nca.checkpoint import Checkpoint
from nca.model import to_rgb
from nca.rollouts import make_rollout

PANEL = 128  # pixels per side of the thumbnail
GRID = 64  # cells per side of the grown texture (upscaled 2x: cheap on CPU, still readable)
STEPS = 500  # grown, not just sprouting: a texture that fails to hold shows it (~1 s on a CPU)
INSET = 40  # pixels per side of the style inset, bottom right
BORDER = 2


def grow(ckpt: Checkpoint, grid: int = GRID, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    """grid x grid x 3 uint8 RGB after `steps` steps from the all-zero seed."""
    model = ckpt.build_model("cpu")
    gen = torch.Generator().manual_seed(seed)
    x = make_rollout(model, compile_step=False)(model.seed(1, grid, grid), steps, gen)  # one sample: not worth compiling
    rgb = to_rgb(x)[0].permute(1, 2, 0).numpy()
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def style_panel(ckpt: Checkpoint, side: int = INSET) -> Image.Image | None:
    style = getattr(ckpt, "style_image", None)  # H x W x 3 uint8, when the trainer stored it
    if style is not None:
        img = Image.fromarray(np.asarray(style, dtype=np.uint8), "RGB")
    else:
        candidate = Path(ckpt.path).parent / "style.png" if ckpt.path else None
        if candidate is None or not candidate.is_file():
            return None
        try:
            with Image.open(candidate) as f:
                img = f.convert("RGB")
        except (OSError, ValueError):
            return None  # a broken preview image must not stop an export
    square = min(img.size)
    left, top = (img.width - square) // 2, (img.height - square) // 2
    return img.crop((left, top, left + square, top + square)).resize((side, side), Image.Resampling.LANCZOS)


def thumbnail(ckpt: Checkpoint, steps: int = STEPS) -> Image.Image:
    out = Image.fromarray(grow(ckpt, steps=steps), "RGB").resize((PANEL, PANEL), Image.Resampling.NEAREST)
    style = style_panel(ckpt)
    if style is not None:
        corner = PANEL - INSET - BORDER
        out.paste((255, 255, 255), (corner - BORDER, corner - BORDER, PANEL, PANEL))
        out.paste(style, (corner, corner))
    return out
