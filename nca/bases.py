"""The packaged base models a run may start from (`--init NAME`), and `--init auto`'s choice among them.

Each base is a copy of a bundled gallery model's checkpoint (nca/bases/<name>.pt). Fine-tuning
one that already grows a texture close to the new style needs far fewer iterations, and which
one matters: walnut held from pebbles but not from leopard, leaves4 from rust only
(docs/quality-notes.md). `auto` grows each base's own texture for a few hundred steps and picks
the one whose rollout is nearest the style by the balanced Gram ratio (every VGG layer alike,
so shapes count as much as colours).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .config import BASES
from .evaluate import Figures, rollout
from .image import tile
from .model import to_rgb
from .vgg import VGGFeatures

BASES_DIR = Path(__file__).with_name("bases")
AUTO_GRID = 64  # the training grid: what the base grows where the run will train
AUTO_STEPS = 300  # long enough for every base to have grown its texture from the seed
AUTO_SAMPLES = 2


def base_model(name: str) -> Path:
    """The packaged checkpoint `--init NAME` starts from."""
    return BASES_DIR / f"{name}.pt"


@torch.no_grad()
def nearest_base(style: torch.Tensor, vgg: VGGFeatures, device: torch.device) -> tuple[str, dict[str, float]]:
    """(the base whose texture is nearest `style` (1 x 3 x H x W in [0, 1]), every base's balanced ratio).
    Building the models draws from torch's global generator: call it before a run seeds its own."""
    figures = Figures(tile(style, AUTO_GRID, AUTO_GRID), vgg)
    ratios = {}
    for name in BASES:
        ckpt = load_checkpoint(base_model(name))
        nca = ckpt.build_model(device)
        gen = torch.Generator(device=device).manual_seed(0)
        x = rollout(nca, nca.seed(AUTO_SAMPLES, AUTO_GRID, AUTO_GRID, generator=gen), AUTO_STEPS, gen)
        ratios[name] = round(figures(to_rgb(x))["balanced_ratio"], 4)
    return min(ratios, key=ratios.get), ratios
