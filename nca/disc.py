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
    dy, dx = offsets(height, width, x, y, device=device)
    return dy[:, None].square() + dx[None, :].square() <= radius * radius


def offsets(height: int, width: int, x: float, y: float, device: torch.device | str = "cpu",
            dtype: torch.dtype = torch.float32, signed: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(dy per row, dx per column): the wrapped distance of each cell centre from the point (x, y), in
    cells; with `signed`, the shortest displacement from the point (each in -size/2..size/2)."""
    dy = torch.arange(height, device=device, dtype=dtype) + 0.5 - y * height
    dx = torch.arange(width, device=device, dtype=dtype) + 0.5 - x * width
    if signed:
        return _signed(dy, height), _signed(dx, width)
    return _wrapped(dy, height), _wrapped(dx, width)


def _wrapped(d: torch.Tensor, size: int) -> torch.Tensor:
    """Distance on a ring of `size` cells."""
    d = d.abs().remainder(size)
    return torch.minimum(d, size - d)


def _signed(d: torch.Tensor, size: int) -> torch.Tensor:
    """The displacement on a ring of `size` cells with the smallest magnitude (-size/2 at a tie, as field.js)."""
    return d - size * torch.floor(d / size + 0.5)
