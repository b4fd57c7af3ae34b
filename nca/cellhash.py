"""The browser's random numbers in PyTorch: the integer hash of shaders/hash.glsl.j2, bit for bit.

The update shader fires a cell when cell_random(cell, step, seed) < its rate. With `shader_mask`
PyTorch replays exactly those masks, so a stochastic rollout (a fire-rate field included) can be
compared with the shader's cell by cell instead of only in distribution.
"""

from __future__ import annotations

import numpy as np
import torch


def pcg_hash(v: np.ndarray) -> np.ndarray:
    """PCG's output permutation on uint32, wrapping as GLSL's uint arithmetic does."""
    v = np.atleast_1d(np.asarray(v, np.uint32))  # arrays wrap silently; numpy scalars warn
    state = v * np.uint32(747796405) + np.uint32(2891336453)
    word = ((state >> ((state >> np.uint32(28)) + np.uint32(4))) ^ state) * np.uint32(277803737)
    return (word >> np.uint32(22)) ^ word


def cell_random(height: int, width: int, t: int, seed: int) -> np.ndarray:
    """H x W float32 in [0, 1): the shader's cell_random(p, t, seed) for every cell (p.x = column, p.y = row)."""
    inner = pcg_hash(np.uint32(t & 0xFFFFFFFF) ^ pcg_hash(np.uint32(seed & 0xFFFFFFFF)))
    rows = pcg_hash(np.arange(height, dtype=np.uint32) ^ inner)
    h = pcg_hash(np.arange(width, dtype=np.uint32)[None, :] ^ rows[:, None])
    return (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def shader_mask(rates: torch.Tensor, step: int, seed: int) -> torch.Tensor:
    """1 x 1 x H x W of 0/1: the cells the update shader fires at `step` (its u_step) with `seed` (u_seed),
    given each cell's rate (1 x 1 x H x W)."""
    rates = torch.as_tensor(rates, dtype=torch.float32)
    if rates.dim() != 4:
        raise ValueError("shader_mask needs a rate per cell (1 x 1 x H x W)")
    h, w = rates.shape[-2:]
    draw = torch.from_numpy(cell_random(h, w, step, seed))[None, None]
    return (draw < rates).float()
