"""Which further try a run takes (nca/retry.py): the policy, on the verdicts the check writes."""

from nca.config import PRESETS, TrainConfig
from nca.retry import LONGER, LONGEST, STEADY_POOL, STEADY_SEED_EVERY, Try, restyled, steady_try, steadying, third_try
from nca.verdict import verdict

FAST = TrainConfig(init="leopard", retry="longer", iterations=200, stop_below=0.05)


def kept(name, scale=1.0, style=0.02, rise=1.0):
    steps = {"500": {"style_ratio": style, "scale_ratio": scale, "contrast": 1.0},
             "2000": {"style_ratio": style, "scale_ratio": scale, "contrast": 1.0},
             "5000": {"style_ratio": style * rise, "scale_ratio": scale, "contrast": 1.0}}
    return Try(name, "leopard", 400 if name == "longer" else 200, {**verdict(steps), "steps": steps})


def test_a_good_run_or_one_without_retries_stops():
    assert third_try(FAST, kept("longer"), 128) is None
    assert third_try(TrainConfig(init="leopard", retry="none"), kept("longer", style=0.2), 128) is None


def test_features_too_small_train_again_at_the_style_size_the_model_can_hold():
    # leaves4's kept try (scale 1.30 at 128): at 96, whichever try it was.
    assert third_try(FAST, kept("longer", scale=1.30), 128) == ("style96", 96)
    assert third_try(FAST, kept("leopard", scale=1.30), 128) == ("style96", 96)
    assert third_try(FAST, kept("longer", scale=1.30), 64) == ("style48", 48)  # from the size it trained at


def test_the_smaller_style_try_starts_again_from_the_kept_try_s_start_as_long_as_the_longer_try():
    # ice: a fine-tune of its kept model at style size 80 drifted (+42%); a new run from the base at 80 held.
    cfg = restyled(FAST, "pebbles", 80)
    assert (cfg.init, cfg.style_size, cfg.retry, cfg.stop_below) == ("pebbles", 80, "none", 0.0)  # first try only
    assert cfg.iterations == LONGER * FAST.iterations and cfg.pool_size == FAST.pool_size


def test_otherwise_a_longer_run_goes_on_once_more_and_a_kept_first_try_stops():
    poor, drifting = kept("longer", style=0.0515), kept("longer", style=0.036, rise=1.4)
    assert poor.evaluation["verdict"] == "poor" and drifting.evaluation["verdict"] == "drifts"
    assert third_try(FAST, poor, 128) == (LONGEST, None)
    assert third_try(FAST, drifting, 128) == (LONGEST, None)
    # The first try beat the longer one: going on from it would train the longer try again.
    assert third_try(FAST, kept("leopard", style=0.0515), 128) is None


def test_a_kept_model_that_drifts_ends_with_a_steadying_try():
    # gold after its three tries: 0.024 at step 500, +50% by step 5000.
    drifting = kept("longest", style=0.0237, rise=1.5)
    assert drifting.evaluation["verdict"] == "drifts" and steady_try(FAST, drifting)
    assert not steady_try(FAST, kept("longer"))  # good
    assert not steady_try(FAST, kept("longer", style=0.0515))  # poor: the texture is not there to steady
    assert not steady_try(TrainConfig(init="leopard", retry="none"), drifting)


def test_the_steadying_try_trains_on_old_states_at_the_size_the_model_kept_trained_at():
    cfg = steadying(FAST, 80)
    assert (cfg.style_size, cfg.iterations, cfg.retry, cfg.stop_below) == (80, FAST.iterations, "none", 0.0)
    assert (cfg.pool_size, cfg.seed_reset_every) == (STEADY_POOL, STEADY_SEED_EVERY)
    # Each state is rolled out iterations * batch / pool times: four times as often as in a `fast` run.
    fast = PRESETS["fast"][1]
    assert cfg.iterations * cfg.batch / cfg.pool_size == 4 * fast.iterations * fast.batch / fast.pool_size
    assert steadying(TrainConfig(batch=32, pool_size=64), 128).pool_size == 32  # never a pool smaller than a batch
