"""Painted fields: where each cell's texture points, how fast it runs, and which of two models it runs.

A field is a 4 x H x W float32 tensor holding the same numbers as the engine's u_field texture:

  0, 1  k cos and k sin of the cell's angle, composed with the global angle (rotates its Sobel pair);
        their length k is the cell's perception scale (Sobel pair times k, Laplacian times k^2: a grid
        k times finer: the texture k times as large, smoothly in a model trained with --scale-range);
  2     the cell's fire-rate factor: it fires with probability min(1, fire_rate * factor), 0 freezes it;
  3     the graft mix: 0 runs the model, 1 the second model, in between a blend of their updates.

Presets and brushes are functions of the grid size and fractions of it, computed in float64 and
stored as float32; exporter/js/field.js is their mirror, so the page and `nca record` paint the
same field. Field specs (`--field vortex:x=0.3`, `direction@600:...` events) are parsed by
nca/record/fieldspec.py.
"""

from __future__ import annotations

import math

import torch

from .disc import offsets
from .model import NCA

CHANNELS = 4
DIRECTIONS = ("uniform", "radial", "vortex", "hyperbolic")
SPEEDS = ("uniform", "gradient")
SCALES = ("uniform", "gradient")
BRUSHES = ("direction", "speed", "graft", "scale")
SCALE_LIMITS = (0.25, 4.0)  # a perception scale outside these is clamped: k = 0 would blind the cell


def uniform_field(height: int, width: int, angle: float = 0.0, speed: float = 1.0, mix: float = 0.0,
                  scale: float = 1.0) -> torch.Tensor:
    """Every cell alike: today's global angle and fire rate, no graft, the trained scale."""
    field = torch.empty(CHANNELS, height, width, dtype=torch.float32)
    field[0], field[1], field[2], field[3] = scale * math.cos(angle), scale * math.sin(angle), speed, mix
    return field


def direction_angles(kind: str, height: int, width: int, x: float = 0.5, y: float = 0.5,
                     angle: float = 0.0) -> torch.Tensor:
    """H x W float64 angles (radians) of a direction preset centred on (x, y) (fractions of the grid).

    The texture turns by minus the cell's angle in image coordinates (y down), so a cell whose angle
    is minus the polar angle of its offset holds the texture as it is at the right of the centre:
    radial points the texture's x axis away from the centre, vortex along circles around it,
    hyperbolic mirrors it (a saddle). `angle` turns the whole field, as the global angle does.
    """
    if kind not in DIRECTIONS:
        raise ValueError(f"unknown direction field {kind!r}; choose one of {', '.join(DIRECTIONS)}")
    if kind == "uniform":
        return torch.full((height, width), float(angle), dtype=torch.float64)
    dy, dx = offsets(height, width, x, y, dtype=torch.float64, signed=True)
    phi = torch.atan2(dy[:, None].expand(height, width), dx[None, :].expand(height, width))
    if kind == "radial":
        return angle - phi
    if kind == "vortex":
        return angle - phi - math.pi / 2
    return angle + phi


def _left_to_right(kind: str, choices: tuple[str, ...], what: str, height: int, width: int, lo: float,
                   hi: float) -> torch.Tensor:
    """H x W float64 values of a preset: uniform 1, or a gradient from lo (left edge) to hi (right)."""
    if kind not in choices:
        raise ValueError(f"unknown {what} field {kind!r}; choose one of {', '.join(choices)}")
    if kind == "uniform":
        return torch.ones(height, width, dtype=torch.float64)
    cols = (torch.arange(width, dtype=torch.float64) + 0.5) / width
    return (lo + (hi - lo) * cols)[None, :].expand(height, width).clone()


def speed_factors(kind: str, height: int, width: int, lo: float = 0.25, hi: float = 2.0) -> torch.Tensor:
    """H x W float64 fire-rate factors of a speed preset: uniform 1, or a gradient from lo (left) to hi."""
    return _left_to_right(kind, SPEEDS, "speed", height, width, lo, hi)


def scale_factors(kind: str, height: int, width: int, lo: float = 0.67, hi: float = 1.5) -> torch.Tensor:
    """H x W float64 perception scales of a scale preset: uniform 1, or a gradient from lo (left) to hi
    (by default the texture 1.5x smaller at the left edge and 1.5x larger at the right)."""
    return _left_to_right(kind, SCALES, "scale", height, width, lo, hi).clamp(*SCALE_LIMITS)


def scales(field: torch.Tensor) -> torch.Tensor:
    """H x W float64 perception scale of each cell: the length of its (k cos, k sin)."""
    f0, f1 = field[0].double(), field[1].double()
    return torch.sqrt(f0 * f0 + f1 * f1)


def set_direction(field: torch.Tensor, angles: torch.Tensor, where: torch.Tensor | None = None) -> torch.Tensor:
    """Write (k cos, k sin) of `angles` (H x W radians) into the field, everywhere or where `where` is
    true; each cell keeps its scale k."""
    k = scales(field)
    cos, sin = (k * torch.cos(angles)).float(), (k * torch.sin(angles)).float()
    if where is None:
        field[0], field[1] = cos, sin
    else:
        field[0][where], field[1][where] = cos[where], sin[where]
    return field


def set_scale(field: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """Give every cell the scale `new` (H x W float64, clamped to SCALE_LIMITS), keeping its angle."""
    ratio = new.clamp(*SCALE_LIMITS) / scales(field)
    field[0], field[1] = (field[0].double() * ratio).float(), (field[1].double() * ratio).float()
    return field


def brush_weights(height: int, width: int, x: float, y: float, r: float, soft: float = 0.0) -> torch.Tensor:
    """H x W float64 weights of a brush dab: 1 within (1 - soft) of the radius, falling linearly to 0 at
    the radius (r: a fraction of the shorter side; distances between cell centres, wrapped: nca/disc.py)."""
    radius = r * min(height, width)
    inner = radius * (1.0 - soft)
    dy, dx = offsets(height, width, x, y, dtype=torch.float64)
    d = torch.sqrt(dy[:, None] * dy[:, None] + dx[None, :] * dx[None, :])
    if soft <= 0.0:
        return (d <= radius).double()
    return torch.where(d <= inner, 1.0, ((radius - d) / (radius - inner)).clamp(0.0, 1.0))


def paint(field: torch.Tensor, kind: str, value: float, x: float, y: float, r: float, soft: float = 0.0) -> torch.Tensor:
    """One dab of a brush, in place. `direction` sets the angle `value` (radians) in the disc;
    `speed` (a fire-rate factor), `graft` (a mix, 0..1) and `scale` (a perception scale) move each
    cell's value towards `value` by the dab's weight, so a soft edge blends and repeated dabs converge."""
    if kind not in BRUSHES:
        raise ValueError(f"unknown brush {kind!r}; choose one of {', '.join(BRUSHES)}")
    _, h, w = field.shape
    weights = brush_weights(h, w, x, y, r, soft)
    if kind == "direction":
        return set_direction(field, torch.full((h, w), float(value), dtype=torch.float64), weights > 0)
    if kind == "scale":
        old = scales(field)
        return set_scale(field, old + weights * (min(max(value, SCALE_LIMITS[0]), SCALE_LIMITS[1]) - old))
    channel = 2 if kind == "speed" else 3
    old = field[channel].double()
    field[channel] = (old + weights * (value - old)).float()
    return field


def rotation(field: torch.Tensor, angle: float = 0.0) -> torch.Tensor:
    """1 x 2 x H x W (k cos, k sin) of each cell's angle composed with the global one, as update.frag does."""
    c = torch.tensor(math.cos(angle), dtype=torch.float32)
    s = torch.tensor(math.sin(angle), dtype=torch.float32)
    fx, fy = field[0], field[1]
    return torch.stack([c * fx - s * fy, s * fx + c * fy])[None]


def fire_rates(field: torch.Tensor, fire_rate: float) -> torch.Tensor:
    """1 x 1 x H x W probability of each cell firing: min(1, fire_rate * its factor) in float32."""
    return torch.clamp(torch.tensor(fire_rate, dtype=torch.float32) * field[2], max=1.0)[None, None]


def field_step(model: NCA, x: torch.Tensor, field: torch.Tensor, *, other: NCA | None = None, angle: float = 0.0,
               fire_rate: float | None = None, mask: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """One step of `model` (and, where the field's mix is above 0, `other`) under a field.

    The same arithmetic as update.frag / graft.frag: the update is (1 - mix) of the model's and mix
    of the other's, and a cell fires when its draw is below its rate. `mask` (B or 1 x 1 x H x W of
    0/1) replaces the draw, e.g. with nca/cellhash.py's copy of the browser's mask.
    """
    field = field.to(x.device)
    rot = rotation(field, angle).to(x)
    dx = model.update_rotated(x, rot)
    if other is not None:
        mix = field[3][None, None].to(x)
        dx = (1.0 - mix) * dx + mix * other.update_rotated(x, rot)
    if mask is None:
        rates = fire_rates(field, model.cfg.fire_rate if fire_rate is None else fire_rate).to(x)
        mask = _draw(x, rates, generator)
    return x + mask * dx


def _draw(x: torch.Tensor, rates: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """B x 1 x H x W of 0/1: each cell fires with its own probability (one uniform draw per cell)."""
    b, _, h, w = x.shape
    return (torch.rand((b, 1, h, w), generator=generator, device=x.device) < rates).to(x.dtype)
