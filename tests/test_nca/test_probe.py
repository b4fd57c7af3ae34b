"""The long-rollout probe: its losses follow a drift, its score counts a rise."""

import pytest
import torch

from nca.config import ModelConfig
from nca.image import image_to_tensor, load_style
from nca.model import NCA
from nca.probe import probe_losses, probe_score
from nca.vgg import StyleLoss, VGGFeatures
from tests.conftest import TEXTURES

STYLE = TEXTURES / "pebbles.png"


@pytest.fixture
def still_model_and_loss():
    """A 4/8 model whose zero-initialised output never changes the seed, and pebbles' style loss."""
    style, _ = load_style(STYLE, 48)
    return NCA(ModelConfig(channels=4, hidden=8)), StyleLoss(VGGFeatures(), image_to_tensor(style))


def test_probe_losses_rise_for_a_drifting_model_and_stay_for_a_still_one(still_model_and_loss):
    model, loss = still_model_and_loss
    still = probe_losses(model, loss, 32)
    assert list(still) == [500, 1000, 2000] and len(set(still.values())) == 1
    with torch.no_grad():  # every firing pushes the colour the same way: a slow drift to magenta
        model.w1.zero_()
        model.b1.zero_()
        model.b1[0] = 1.0
        model.w2[:3, 0] = torch.tensor([2e-4, -2e-4, 2e-4])
    drift = probe_losses(model, loss, 32)
    assert still[500] < drift[500] < drift[1000] < drift[2000]


def test_probe_score_counts_a_rise_against_a_checkpoint():
    steady = {500: 0.020, 1000: 0.023, 2000: 0.019}
    rising = {500: 0.011, 1000: 0.013, 2000: 0.016}  # lower worst loss, but still climbing at 2000
    assert probe_score(steady) == 0.023
    assert probe_score(rising) == 0.016 * (0.016 / 0.011)
    assert probe_score(rising) > probe_score(steady)
    assert probe_score({500: 0.01, 1000: float("nan"), 2000: 0.01}) == float("inf")


def test_probe_grows_from_the_noisy_seed_a_run_trained_from(still_model_and_loss):
    model, loss = still_model_and_loss  # the probed state is the seed itself
    grey = probe_losses(model, loss, 32, steps=(1,))
    noisy = probe_losses(model, loss, 32, steps=(1,), noise=0.3)
    assert noisy[1] != grey[1]
    assert probe_losses(model, loss, 32, steps=(1,), noise=0.3) == noisy  # its own generator: repeatable
