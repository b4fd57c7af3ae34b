"""The one disc convention: fractions of the frame, radius of the shorter side, wrapping around."""

import torch

from nca.config import ModelConfig, TrainConfig
from nca.disc import disc_mask
from nca.model import NCA
from nca.pool import SamplePool


def test_radius_is_a_fraction_of_the_shorter_side_and_measured_between_cell_centres():
    wide = disc_mask(32, 64, 0.5, 0.5, 0.25)  # 8 cells on the 32-row side
    assert wide[16, 32] and wide[16, 32 + 7] and not wide[16, 32 + 8]
    assert torch.equal(wide, wide.flip(0)) and torch.equal(wide, wide.flip(1))  # symmetric about the centre


def test_a_disc_over_an_edge_goes_on_at_the_other_side():
    corner = disc_mask(16, 16, 0.0, 0.0, 0.125)
    assert corner[0, 0] and corner[-1, -1] and corner[0, -1] and corner[-1, 0]
    assert corner.sum() == disc_mask(16, 16, 0.5, 0.5, 0.125).sum()  # the same disc, cut in four


def test_pool_damage_erases_a_disc_back_to_the_seed_and_nothing_else():
    cfg = TrainConfig(grid=32, batch=2, pool_size=4, damage_samples=1)
    model = NCA(ModelConfig(channels=4, hidden=8))
    pool = SamplePool(model, cfg, torch.Generator().manual_seed(0))
    state = torch.ones(4, 32, 32)
    damaged = pool.damaged(state, torch.Generator().manual_seed(1))
    erased = (damaged == 0).all(dim=0)
    assert 0.1**2 * 3.14 * 32 * 32 * 0.8 < erased.sum() < 0.4**2 * 3.14 * 32 * 32 * 1.2  # radius 10-40% of the grid
    assert (damaged[:, ~erased] == 1).all()
