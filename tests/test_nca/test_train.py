import json

import pytest
import torch

from nca.checkpoint import Checkpoint, load_checkpoint
from nca.evaluate import evaluate
from nca.model import NCA
from nca.train import TrainingError, train
from tests.conftest import TEXTURES

STYLE = TEXTURES / "pebbles.png"
FAST = dict(preset="tiny", quiet=True, compile_step=False)


def events(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def losses(run_dir):
    return [e["loss"] for e in events(run_dir) if "loss" in e]


# The smallest setting measured here to learn visibly within a test's budget: 150 iterations
# of the default 12/96 model on a 32x32 grid with a 48 px style image (~30 s alone on 2 cores).
LEARNS = dict(channels=12, hidden=96, batch=4, steps_min=16, steps_max=24, pool_size=64, style_size=48,
              iterations=150, lr=2e-3)


@pytest.mark.slow
def test_training_reduces_the_loss_and_writes_a_run_directory(tmp_path):
    result = train(STYLE, tmp_path / "run", **LEARNS, **FAST)
    run = result.out_dir
    for name in ("checkpoint.pt", "resume.pt", "metrics.jsonl", "loss.png", "preview_pool.png",
                 "preview_rollout.png", "style.png"):
        assert (run / name).is_file(), name
    curve = losses(run)
    assert len(curve) == 150
    # Per-iteration losses are noisy (random rollout lengths and pool samples), so judge the
    # model instead: the texture it grows from the seed must have moved towards the style.
    ckpt = load_checkpoint(run)
    untrained = Checkpoint(ckpt.model_config, ckpt.train_config, NCA(ckpt.model_config).state_dict(), {},
                           ckpt.style_image)

    def ratio(c):
        report = evaluate(c, size=64, steps=(16, 32), device="cpu")["steps"]
        return (report[16]["style_ratio"] + report[32]["style_ratio"]) / 2

    before, after = ratio(untrained), ratio(ckpt)
    assert after < 0.85 * before, (before, after)
    assert ckpt.meta["iterations"] == 150
    assert ckpt.meta["final_loss"] == pytest.approx(curve[-1])
    assert len(ckpt.meta["style_sha256"]) == 64 and ckpt.meta["wall_time"] > 0
    assert ckpt.style_image.shape == (48, 48, 3) and ckpt.style_image.dtype == torch.uint8


def test_same_seed_gives_the_same_loss_curve(tmp_path):
    a = train(STYLE, tmp_path / "a", iterations=8, seed=3, **FAST)
    b = train(STYLE, tmp_path / "b", iterations=8, seed=3, **FAST)
    c = train(STYLE, tmp_path / "c", iterations=8, seed=4, **FAST)
    assert losses(a.out_dir) == losses(b.out_dir)
    assert losses(a.out_dir) != losses(c.out_dir)


def test_resume_continues_where_the_run_stopped(tmp_path):
    straight = train(STYLE, tmp_path / "straight", iterations=20, **FAST)
    run = tmp_path / "resumed"
    train(STYLE, run, iterations=10, **FAST)
    resumed = train(STYLE, run, resume=True, iterations=20, quiet=True, compile_step=False)
    assert resumed.iterations == 20
    assert [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()] == list(range(1, 21))
    # The pool is stored in half precision, so the curve after resuming is close, not bit-identical.
    assert losses(run)[:10] == losses(straight.out_dir)[:10]
    assert load_checkpoint(run).meta["iterations"] == 20


def test_resume_refuses_a_finished_run_and_a_different_image(tmp_path):
    run = tmp_path / "run"
    train(STYLE, run, iterations=4, **FAST)
    with pytest.raises(TrainingError, match="already has 4 of 4"):
        train(STYLE, run, resume=True, quiet=True)
    with pytest.raises(TrainingError, match="different style image"):
        train(TEXTURES / "rust.png", run, resume=True, iterations=8, quiet=True, compile_step=False)
    with pytest.raises(TrainingError, match="nothing to resume"):
        train(STYLE, tmp_path / "empty", resume=True, quiet=True)


def test_non_finite_loss_never_reaches_a_checkpoint(tmp_path):
    """A VGG weights file with a NaN makes every loss NaN: each step is discarded with a lower
    learning rate, the run stops with a clear message, and no checkpoint holds bad weights."""
    from nca.vgg import default_weights_path

    state = torch.load(default_weights_path(), weights_only=True)
    state["42.bias"][0] = float("nan")
    weights = tmp_path / "nan_vgg.pth"
    torch.save(state, weights)
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match="not finite 8 times"):
        train(STYLE, run, iterations=20, vgg_weights=str(weights), **FAST)
    events = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["non_finite_loss"] * 8
    assert events[-1]["lr"] == pytest.approx(events[0]["lr"] / 2 ** 7)
    assert not (run / "checkpoint.pt").exists()


def test_swd_loss_and_small_model_train(tmp_path):
    result = train(STYLE, tmp_path / "swd", iterations=30, loss="swd", channels=4, hidden=8, lr=3e-3, **FAST)
    curve = losses(result.out_dir)
    assert sum(curve[-5:]) < sum(curve[:5])
    assert load_checkpoint(result.checkpoint).model_config.parameter_count == 168


def test_damage_augmentation_runs(tmp_path):
    result = train(STYLE, tmp_path / "dmg", iterations=3, damage_samples=1, **FAST)
    assert result.iterations == 3


def test_every_run_ends_with_a_verdict_in_the_run_and_its_checkpoint(tmp_path, capsys):
    from nca.cli import main

    assert main(["train", str(STYLE), "--preset", "tiny", "--iterations", "3", "--out", str(tmp_path / "run"),
                 "--no-compile"]) == 0
    err = capsys.readouterr().err
    assert "verdict: failed: flat output: learned nothing" in err  # three iterations learn nothing
    stored = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert stored["verdict"] == "failed" and set(stored["steps"]) == {"16", "32"}
    assert load_checkpoint(tmp_path / "run").meta["evaluation"] == stored


def test_no_check_when_cancelled_or_switched_off(tmp_path):
    stopped = train(STYLE, tmp_path / "c", iterations=5, should_stop=lambda: True, **FAST)
    off = train(STYLE, tmp_path / "o", iterations=2, check_steps=(), **FAST)
    assert stopped.evaluation is None and off.evaluation is None
    assert not (tmp_path / "o" / "evaluation.json").exists()


def test_truncated_backprop_trains_and_changes_only_the_gradient(tmp_path):
    """grad_steps > 0 runs the first steps without autograd: the forward rollout (and so the
    first loss) is the same, the updates differ."""
    full = losses(train(STYLE, tmp_path / "full", iterations=4, check_steps=(), **FAST).out_dir)
    cut = losses(train(STYLE, tmp_path / "cut", iterations=4, grad_steps=4, check_steps=(), **FAST).out_dir)
    assert cut[0] == pytest.approx(full[0], rel=1e-5)
    assert cut[1:] != full[1:]


def test_resume_keeps_the_runs_settings_and_refuses_others(tmp_path):
    run = tmp_path / "run"
    train(STYLE, run, iterations=4, loss="gram", **FAST)
    with pytest.raises(TrainingError, match="keeps the run's settings; drop --loss, --lr"):
        train(STYLE, run, resume=True, iterations=6, loss="swd", lr=0.1, quiet=True, compile_step=False)
    same = train(STYLE, run, resume=True, iterations=6, loss="gram", quiet=True, compile_step=False)
    assert same.iterations == 6 and load_checkpoint(run).train_config.loss == "gram"


def test_scale_range_trains_at_several_perception_scales(tmp_path):
    result = train(STYLE, tmp_path / "scales", iterations=12, scale_range=2.0, **FAST)
    drawn = {e["scale"] for e in events(result.out_dir) if "scale" in e}
    assert drawn <= {0.5, 0.7071, 1.0, 1.4142, 2.0} and len(drawn) >= 3
    assert load_checkpoint(result.checkpoint).train_config.scale_range == 2.0
    plain = train(STYLE, tmp_path / "plain", iterations=3, **FAST)
    assert not any("scale" in e for e in events(plain.out_dir))
