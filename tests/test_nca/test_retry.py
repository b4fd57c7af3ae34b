"""Which further try a run takes (nca/retry.py): the policy, on the verdicts the check writes."""

from nca.config import PRESETS, TrainConfig
from nca.retry import (
    LONGER,
    LONGEST,
    STEADY_LR,
    STEADY_POOL,
    STEADY_SEED_EVERY,
    Try,
    rebased,
    restyled,
    steady_try,
    steadying,
    third_try,
)
from nca.verdict import verdict

FAST = TrainConfig(init="leopard", retry="longer", iterations=200, stop_below=0.05)


def kept(name, scale=1.0, style=0.02, rise=1.0, init="leopard"):
    steps = {"500": {"style_ratio": style, "scale_ratio": scale, "contrast": 1.0},
             "2000": {"style_ratio": style, "scale_ratio": scale, "contrast": 1.0},
             "5000": {"style_ratio": style * rise, "scale_ratio": scale, "contrast": 1.0}}
    return Try(name, init, 400 if name == "longer" else 200, {**verdict(steps), "steps": steps})


def test_a_good_run_or_one_without_retries_stops():
    assert third_try(FAST, kept("longer"), 128) is None
    assert third_try(TrainConfig(init="leopard", retry="none"), kept("longer", style=0.2), 128) is None


def test_features_too_small_train_again_at_the_style_size_the_model_can_hold():
    # leaves4's kept try (scale 1.30 at 128): at 96, whichever try it was.
    assert third_try(FAST, kept("longer", scale=1.30), 128) == ("style96", "leopard", 96)
    assert third_try(FAST, kept("leopard", scale=1.30), 128) == ("style96", "leopard", 96)
    assert third_try(FAST, kept("longer", scale=1.30), 64) == ("style48", "leopard", 48)  # from the size it trained at


def test_the_smaller_style_try_starts_again_from_the_kept_try_s_start_as_long_as_the_longer_try():
    # ice: a fine-tune of its kept model at style size 80 drifted (+42%); a new run from the base at 80 held.
    cfg = restyled(FAST, "pebbles", 80)
    assert (cfg.init, cfg.style_size, cfg.retry, cfg.stop_below) == ("pebbles", 80, "none", 0.0)  # first try only
    assert cfg.iterations == LONGER * FAST.iterations and cfg.pool_size == FAST.pool_size


def test_a_drifting_model_trains_again_from_a_base_no_try_started_from():
    # gold: going on from its drifting longer try ended at the same weights; another base is a new draw.
    drifting = kept("longer", style=0.036, rise=1.4)
    assert drifting.evaluation["verdict"] == "drifts"
    assert third_try(FAST, drifting, 128) == ("pebbles", "pebbles", None)
    assert third_try(FAST, kept("leopard", style=0.036, rise=1.4), 128) == ("pebbles", "pebbles", None)
    # A second try from pebbles drifted too: the next base.
    tried = (kept("leopard", style=0.2), kept("pebbles", style=0.036, rise=1.4, init="pebbles"))
    assert third_try(FAST, tried[1], 128, tried) == ("rust", "rust", None)


def test_the_base_try_trains_as_a_first_try_would_without_stopping_early():
    cfg = rebased(FAST, "pebbles")
    assert (cfg.init, cfg.retry, cfg.stop_below, cfg.iterations) == ("pebbles", "none", 0.0, FAST.iterations)


def test_otherwise_a_longer_run_goes_on_once_more_and_a_kept_first_try_stops():
    poor = kept("longer", style=0.0515)
    assert poor.evaluation["verdict"] == "poor"
    assert third_try(FAST, poor, 128) == (LONGEST, None, None)
    # From random weights there is no base of its shape to start from: it goes on.
    random = TrainConfig(init="random", retry="longer")
    assert third_try(random, kept("longer", style=0.036, rise=1.4, init="random"), 128) == (LONGEST, None, None)
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
    # Small steps: at the run's own rate gold's steadying try drifted (+42%), at a quarter it held.
    assert cfg.lr == FAST.lr * STEADY_LR < FAST.lr
    # Each state is rolled out iterations * batch / pool times: four times as often as in a `fast` run.
    fast = PRESETS["fast"][1]
    assert cfg.iterations * cfg.batch / cfg.pool_size == 4 * fast.iterations * fast.batch / fast.pool_size
    assert steadying(TrainConfig(batch=32, pool_size=64), 128).pool_size == 32  # never a pool smaller than a batch
