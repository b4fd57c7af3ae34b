"""The check's rollouts, without gradients: on the CPU an update only where a cell fires.

A cell that does not fire keeps its state, so a dense step throws its update away: at the default
fire rate, half of the per-cell network's work. Here each step gathers the perception vectors of
the cells that fire and runs the network on those alone (bench/rollout_speed.py measures it).
The masks are drawn as fire_mask draws them and each cell's arithmetic is fused_step's, so a
rollout equals the dense one to float rounding. GPUs keep the dense step: gathering there waits
for the device.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .model import NCA, fire_cells, fire_mask, perception_coefficients
from .stepper import compiled, make_stepper

CELLS_PER_CHUNK = 16384  # samples are stepped in chunks of about this many cells: they stay in the CPU caches
Rollout = Callable[[torch.Tensor, int, torch.Generator], torch.Tensor]  # (states, steps, mask generator) -> states


def perceive_cells(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """B x H x W x C states -> B x H x W x (4C + 1): the filter-major perception vector of every cell
    (identity, Sobel pair, Laplacian; model.perception_kernels with the neighbourhood wrapping round)
    and a 1 that carries the first layer's bias. `coeffs`: k cos, k sin and k^2 of the rotation and scale."""
    up, down = torch.roll(x, 1, 1), torch.roll(x, -1, 1)
    column = up + 2 * x + down  # the Sobel's smoothing down the column
    rise = down - up
    sobel_x = (torch.roll(column, -1, 2) - torch.roll(column, 1, 2)) * 0.125
    sobel_y = (torch.roll(rise, 1, 2) + 2 * rise + torch.roll(rise, -1, 2)) * 0.125
    box = torch.roll(column, 1, 2) + 2 * column + torch.roll(column, -1, 2)  # [1 2 1] x [1 2 1]
    laplacian = (box - 16 * x) * 0.0625
    kc, ks, kk = coeffs[0], coeffs[1], coeffs[2]
    one = torch.ones_like(x[..., :1])
    return torch.cat([x, kc * sobel_x - ks * sobel_y, ks * sobel_x + kc * sobel_y, kk * laplacian, one], -1)


_compiled_perception: list[Callable[..., torch.Tensor]] = []


def _perception() -> Callable[..., torch.Tensor]:
    """One compiled perceive_cells per process: torch.compile keeps a graph per shape."""
    if not _compiled_perception:
        _compiled_perception.append(compiled(perceive_cells, quiet=True))
    return _compiled_perception[0]


class FiredRollout:
    """`rollout(x, steps, generator)` advances B x C x H x W float32 states by `steps` masked steps of
    `model` (its weights as they are now) at perception angle `angle` and scale `scale`."""

    def __init__(self, model: NCA, angle: float = 0.0, scale: float = 1.0, compile_step: bool = True):
        self.fire_rate = model.cfg.fire_rate
        with torch.no_grad():
            c = model.channels
            # w1's columns are filter-major (f * C + c), as perceive_cells' features; the last row is the bias.
            self.w1 = torch.cat([model.w1.t(), model.b1[None]], 0).float().contiguous()
            # The second product is padded to a multiple of 16 outputs: BLAS runs 96 x 16 faster than 96 x 12.
            self.w2 = torch.zeros(model.w2.shape[1], -(-c // 16) * 16)
            self.w2[:, :c] = model.w2.t()
        self.coeffs = torch.tensor(perception_coefficients(angle, scale))
        self.perceive = _perception() if compile_step else perceive_cells

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        cells = x.permute(0, 2, 3, 1).contiguous()  # B x H x W x C: a cell's channels side by side
        chunk = max(1, CELLS_PER_CHUNK // (h * w))
        for _ in range(steps):
            fired = fire_cells(b, h, w, self.fire_rate, generator, x.device)
            for i in range(0, b, chunk):
                part = cells[i:i + chunk]
                which = fired[i:i + chunk].reshape(-1).nonzero().squeeze(1)
                features = self.perceive(part, self.coeffs).view(-1, 4 * c + 1)
                hidden = torch.mm(features.index_select(0, which), self.w1).clamp_min_(0)
                part.view(-1, c).index_put_((which,), torch.mm(hidden, self.w2)[:, :c], accumulate=True)
        return cells.permute(0, 3, 1, 2).contiguous()


def dense_rollout(model: NCA, step: Callable[..., torch.Tensor], angle: float = 0.0, scale: float = 1.0) -> Rollout:
    """The rollout FiredRollout equals: `step` (fused_step, or stepper.make_stepper's) on every cell."""
    kernel = model._fused_kernel(angle, scale)

    @torch.no_grad()
    def rollout(x: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        for _ in range(steps):
            x = step(x, fire_mask(x, model.cfg.fire_rate, generator), kernel, model.b1, model.w2)
        return x

    return rollout


def make_rollout(model: NCA, compile_step: bool = True) -> Rollout:
    """The float32 rollout of `model` as its weights are now: FiredRollout on the CPU, the dense step elsewhere."""
    if model.w1.device.type == "cpu":
        return FiredRollout(model, compile_step=compile_step)
    return dense_rollout(model, make_stepper(model.w1.device, compile_step, quiet=True))
