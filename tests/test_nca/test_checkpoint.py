"""Checkpoints: a round trip gives the same model; older checkpoints keep the settings they trained with."""

import torch

from nca.checkpoint import load_checkpoint
from nca.train import train
from tests.test_nca.test_train import FAST, STYLE


def test_checkpoint_round_trip_gives_the_same_model(tmp_path):
    result = train(STYLE, tmp_path / "run", iterations=5, **FAST)
    model = load_checkpoint(result.checkpoint).build_model()
    again = load_checkpoint(result.out_dir).build_model()
    x = torch.randn(1, model.channels, 16, 16) * 0.2
    assert torch.equal(model(x, fire_rate=1.0), again(x, fire_rate=1.0))
    assert model.w2.abs().sum() > 0  # training moved the zero-initialised layer


def test_checkpoints_from_before_gram_balance_keep_their_loss(tmp_path):
    result = train(STYLE, tmp_path / "run", iterations=2, **FAST)
    assert load_checkpoint(result.checkpoint).train_config.gram_balance == "none"  # today's default
    payload = torch.load(result.checkpoint, weights_only=True)
    del payload["train_config"]["gram_balance"]
    torch.save(payload, result.checkpoint)
    # Such runs were trained with per-layer balancing; a --resume must go on with that loss.
    assert load_checkpoint(result.checkpoint).train_config.gram_balance == "layer"
