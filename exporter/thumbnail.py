"""The bundle's thumbnail.png: the texture as the PyTorch model grows it from the seed, next
to the style image it was trained on (when the checkpoint or run directory holds one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nca.checkpoint import Checkpoint
from nca.model import to_rgb

PANEL = 128  # pixels per side of each panel
GRID = 48  # cells per side of the grown texture (upscaled: cheap on CPU, still readable)
STEPS = 96  # enough for a trained texture to fill the seed at fire_rate 0.5


def grow(ckpt: Checkpoint, grid: int = GRID, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    """grid x grid x 3 uint8 RGB after `steps` steps from the all-zero seed."""
    model = ckpt.build_model("cpu")
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        x = model.rollout(model.seed(1, grid, grid), steps, generator=gen)
        rgb = to_rgb(x)[0].permute(1, 2, 0).numpy()
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def style_panel(ckpt: Checkpoint) -> Image.Image | None:
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
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side)).resize((PANEL, PANEL), Image.Resampling.LANCZOS)


def thumbnail(ckpt: Checkpoint, steps: int = STEPS) -> Image.Image:
    texture = Image.fromarray(grow(ckpt, steps=steps), "RGB").resize((PANEL, PANEL), Image.Resampling.NEAREST)
    style = style_panel(ckpt)
    if style is None:
        return texture
    out = Image.new("RGB", (2 * PANEL, PANEL))
    out.paste(texture, (0, 0))
    out.paste(style, (PANEL, 0))
    return out
