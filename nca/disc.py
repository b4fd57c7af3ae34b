"""The one disc convention of NCA Studio (training's damage, `nca record`'s specs, the page's brush).

A disc is a centre (x, y: fractions of the width and the height) and a radius r (a fraction of the
shorter side). Distances run between cell centres and wrap around the edges, because the grid is a
torus (circular padding): a disc over an edge goes on at the other side, as the texture does.
A cell is inside when its distance is at most the radius. web's brush shader draws the same disc.
"""

from __future__ import annotations

import torch


def disc_mask(height: int, width: int, x: float, y: float, r: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """Boolean height x width mask of the cells inside the disc."""
    radius = r * min(height, width)
    dy = _wrapped(torch.arange(height, device=device, dtype=torch.float32) + 0.5 - y * height, height)
    dx = _wrapped(torch.arange(width, device=device, dtype=torch.float32) + 0.5 - x * width, width)
    return dy[:, None].square() + dx[None, :].square() <= radius * radius


def _wrapped(d: torch.Tensor, size: int) -> torch.Tensor:
    """Distance on a ring of `size` cells."""
    d = d.abs().remainder(size)
    return torch.minimum(d, size - d)
