"""The sample pool: states that live across iterations, so the model learns to keep its texture.

Each iteration takes a batch from the pool (now and then one sample back at the seed, so the
texture must still grow from nothing; some samples with a disc erased, so it learns to repair),
rolls it out and writes it back in place.
"""

from __future__ import annotations

import torch

from .config import TrainConfig
from .disc import disc_mask
from .model import NCA


class SamplePool:
    def __init__(self, model: NCA, cfg: TrainConfig, generator: torch.Generator):
        self.cfg = cfg
        self.seed_state = model.seed(1, cfg.grid, cfg.grid)
        with torch.no_grad():
            self.states = model.seed(cfg.pool_size, cfg.grid, cfg.grid, noise=cfg.seed_noise, generator=generator)

    def sample(self, iteration: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(indices, batch): a copy of `batch` pool states, the first reset to the seed on schedule and
        the last `damage_samples` damaged. Draws from `generator` (the run's CPU stream)."""
        cfg = self.cfg
        idx = torch.randperm(cfg.pool_size, generator=generator)[: cfg.batch].to(self.states.device)
        x = self.states[idx].clone()
        if iteration % cfg.seed_reset_every == 0:
            x[:1] = self.seed_state
        for i in range(cfg.batch - cfg.damage_samples, cfg.batch) if cfg.damage_samples else ():
            x[i] = self.damaged(x[i], generator)
        return idx, x

    def damaged(self, state: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """`state` with a random disc (radius 10-40% of the grid) back at the seed."""
        cx, cy, r = torch.rand(3, generator=generator).tolist()
        _, h, w = state.shape
        disc = disc_mask(h, w, cx, cy, 0.1 + 0.3 * r, device=state.device)
        return torch.where(disc, self.seed_state[0], state)

    @torch.no_grad()
    def write_back(self, idx: torch.Tensor, x: torch.Tensor) -> None:
        self.states[idx] = x.detach()
