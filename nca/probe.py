"""Long-rollout probe: does the texture a model grows from the seed hold for thousands of steps?

Training only ever scores rollouts of a few dozen steps (on pool states up to ~1500 steps old),
so two checkpoints a hundred iterations apart can fit equally well and still differ in what
they do at step 2000: one holds, the other slowly drifts (spots merging, stones into stripes).
The probe grows a few states from the seed, scores them with the training's own style loss at
several step counts, and `probe_score` turns those into the one figure selection compares.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .model import NCA, fire_mask, fused_step, to_rgb
from .vgg import StyleLoss

PROBE_STEPS = (500, 1000, 2000)


def probe_score(losses: dict[int, float]) -> float:
    """What checkpoint selection minimises: the worst probed loss, times the factor by which the
    loss still rises from the first probed step to the last (1 if it does not rise).
    A rise inside the probe's horizon tends to go on past it (docs/quality-notes.md)."""
    values = list(losses.values())
    if not values or not all(math.isfinite(v) for v in values):
        return math.inf
    first, last = losses[min(losses)], losses[max(losses)]
    rise = last / first if first > 0 else 1.0
    return max(values) * max(1.0, rise)


@torch.no_grad()
def probe_losses(model: NCA, style_loss: StyleLoss, grid: int, steps: tuple[int, ...] = PROBE_STEPS,
                 samples: int = 4, seed: int = 0, noise: float = 0.0,
                 step: Callable[..., torch.Tensor] = fused_step) -> dict[int, float]:
    """Style loss of `samples` grid x grid rollouts from the seed at each step count in `steps`.

    `noise` is the run's `seed_noise`: a model trained from noisy seeds is probed from one.

    Uses its own random generators, so probing in the middle of a run leaves the run's
    random streams (and so its reproducibility) untouched. `step` may be training's compiled
    version of `fused_step`."""
    device = model.w1.device
    mask_gen = torch.Generator(device=device).manual_seed(seed)
    loss_gen = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        x = model.seed(samples, grid, grid, noise=noise, generator=mask_gen)
        kernel = model._fused_kernel(0.0)
        done = 0
        out: dict[int, float] = {}
        for n in sorted(steps):
            for _ in range(n - done):
                x = step(x, fire_mask(x, model.cfg.fire_rate, mask_gen), kernel, model.b1, model.w2)
            done = n
            out[n] = float(style_loss(to_rgb(x), generator=loss_gen))
        return out
    finally:
        model.train(was_training)
