"""The check's CPU rollout, which updates only the cells that fire, grows what the dense step grows."""

import math

import pytest
import torch

from nca.checkpoint import load_checkpoint
from nca.config import ModelConfig
from nca.model import NCA, fused_step
from nca.rollouts import FiredRollout, dense_rollout
from tests.conftest import REPO, random_model


def leopard() -> NCA:
    return load_checkpoint(REPO / "nca" / "bases" / "leopard.pt").build_model("cpu")


def every_cell_firing(model: NCA) -> NCA:
    """`model` with fire rate 1: the fired rollout's gather then takes every cell."""
    other = NCA(ModelConfig(channels=model.channels, hidden=model.cfg.hidden, fire_rate=1.0))
    other.load_state_dict(model.state_dict())
    return other


@pytest.mark.parametrize("make, size, samples", [(leopard, 32, 3), (leopard, 96, 2),
                                                 (lambda: every_cell_firing(random_model(8, 16)), 24, 2)])
@pytest.mark.parametrize("angle, scale", [(0.0, 1.0), (0.7, 1.0), (-0.3, 1.6)])
@pytest.mark.parametrize("compile_step", [False, True])
def test_the_fired_rollout_equals_the_dense_one(make, size, samples, angle, scale, compile_step):
    model = make()
    x = 0.2 * torch.randn(samples, model.channels, size, size, generator=torch.Generator().manual_seed(3))
    steps = 24
    dense = dense_rollout(model, fused_step, angle, scale)(x, steps, torch.Generator().manual_seed(5))
    fired = FiredRollout(model, angle, scale, compile_step=compile_step)(x, steps, torch.Generator().manual_seed(5))
    assert fired.shape == x.shape and fired.is_contiguous()
    assert (dense - x).abs().max() > 0.05  # the states did change
    assert torch.allclose(fired, dense, atol=1e-5, rtol=0), float((fired - dense).abs().max())


def test_the_fired_rollout_leaves_its_input_alone_and_repeats():
    model = leopard()
    x = torch.zeros(1, model.channels, 40, 40)
    rollout = FiredRollout(model, compile_step=False)
    first = rollout(x, 50, torch.Generator().manual_seed(0))
    assert x.abs().max() == 0 and math.isfinite(float(first.sum()))
    assert torch.equal(first, rollout(x, 50, torch.Generator().manual_seed(0)))
