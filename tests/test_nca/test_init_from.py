"""`nca train --init-from`: a new run that starts from another model's weights and shape."""

import json

import pytest
import torch
from PIL import Image

from exporter.bundle import model_json
from exporter.pack import pack
from nca.bases import base_model
from nca.checkpoint import load_checkpoint
from nca.config import BASES, DEFAULT_PRESET, PRESETS, ModelConfig, TrainConfig, from_dict
from nca.train import TrainingError, train
from nca.verdict import VERDICTS
from tests.conftest import TEXTURES
from tests.test_nca.test_cli_bad_input import assert_one_line_error

SOURCE_STYLE, STYLE = TEXTURES / "pebbles.png", TEXTURES / "rust.png"
# One thread: these models are too small to gain from more, and a busy machine makes extra threads wait.
FAST = dict(preset="tiny", quiet=True, compile_step=False, check_steps=(), threads=1)


@pytest.fixture(scope="module", autouse=True)
def _keep_torch_threads():
    threads = torch.get_num_threads()  # training with `threads` sets them for the whole process
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A few iterations of a model whose shape is not the tiny preset's (8 channels, 16 hidden)."""
    out = tmp_path_factory.mktemp("init") / "source"
    train(SOURCE_STYLE, out, channels=4, hidden=8, fire_rate=0.75, iterations=3, **FAST)
    return out


def weights(path):
    return load_checkpoint(path).state_dict


def test_the_new_run_starts_from_the_sources_weights_and_shape(source, tmp_path):
    # Stopped before its first step, the new run's checkpoint is exactly where it started.
    result = train(STYLE, tmp_path / "tuned", init_from=source, should_stop=lambda: True, **FAST)
    assert result.iterations == 0
    tuned, src = load_checkpoint(result.checkpoint), load_checkpoint(source)
    assert tuned.model_config == src.model_config  # not the tiny preset's 8/16
    assert set(tuned.state_dict) == {"w1", "b1", "w2"}
    for name, value in src.state_dict.items():
        assert torch.equal(tuned.state_dict[name], value), name
    assert src.state_dict["w2"].abs().sum() > 0  # a fresh model's w2 is zero: the weights came from the source
    assert tuned.meta["init_from"] == {"path": str(source), "style_name": "pebbles.png",
                                       "style_sha256": src.meta["style_sha256"]}
    assert tuned.meta["style_name"] == "rust.png"


def test_a_fine_tune_trains_fresh_and_its_bundle_names_the_source(source, tmp_path):
    out = tmp_path / "tuned"
    # A model option equal to the source's is no contradiction.
    train(STYLE, out, init_from=source / "checkpoint.pt", channels=4, iterations=2, **FAST)
    tuned = load_checkpoint(out)
    assert tuned.meta["iterations"] == 2 and tuned.train_config.iterations == 2  # a new run's count, not 3 + 2
    assert tuned.model_config == load_checkpoint(source).model_config
    assert not torch.equal(tuned.state_dict["w1"], weights(source)["w1"])  # it trained
    assert tuned.meta["init_from"]["path"] == str(source / "checkpoint.pt")
    info = model_json(tuned, pack(tuned), "tuned")
    assert info["training"]["init_from"] == tuned.meta["init_from"]
    assert "init_from" not in model_json(load_checkpoint(source), pack(load_checkpoint(source)), "src")["training"]

    # Resumed, the run keeps the record of where it started.
    train(STYLE, out, resume=True, iterations=3, threads=1, quiet=True, compile_step=False)
    assert load_checkpoint(out).meta["init_from"] == tuned.meta["init_from"]


@pytest.mark.parametrize("args,fragment", [
    (["--channels", "16"], "--init-from takes the model's shape from"),
    (["--hidden", "96", "--fire-rate", "0.5"], "drop --fire-rate, --hidden"),
])
def test_a_model_option_that_contradicts_the_source_is_refused(source, tmp_path, nca, args, fragment):
    proc = nca("train", STYLE, "--preset", "tiny", "--init-from", source, *args, "--out", tmp_path / "out")
    assert_one_line_error(proc, fragment)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("what", ["missing", "not a checkpoint", "empty dir"])
def test_an_unreadable_source_is_one_line(tmp_path, nca, what):
    bad = {"missing": tmp_path / "nope.pt", "not a checkpoint": tmp_path / "x.pt", "empty dir": tmp_path / "d"}[what]
    if what == "not a checkpoint":
        bad.write_bytes(b"not a torch file")
    if what == "empty dir":
        bad.mkdir()
    proc = nca("train", STYLE, "--preset", "tiny", "--init-from", bad, "--out", tmp_path / "out")
    assert_one_line_error(proc, "--init-from: ")
    assert not (tmp_path / "out").exists()


def test_init_from_with_resume_is_refused(source, tmp_path, nca):
    proc = nca("train", STYLE, "--init-from", source, "--resume", "--out", source)
    assert_one_line_error(proc, "pass only one of them")
    with pytest.raises(TrainingError, match="only one"):
        train(STYLE, source, resume=True, init_from=source, **FAST)
    # The Python API names its own argument when a whole model_config contradicts the source.
    with pytest.raises(TrainingError, match="drop model_config"):
        train(STYLE, tmp_path / "out", init_from=source, model_config=ModelConfig(), **FAST)


def test_the_default_preset_starts_from_a_packaged_base_model(tmp_path):
    name = PRESETS[DEFAULT_PRESET][1].init
    assert name in BASES
    result = train(STYLE, tmp_path / "fast", preset=DEFAULT_PRESET, should_stop=lambda: True, quiet=True,
                   compile_step=False, check_steps=(), threads=1)
    started, base = load_checkpoint(result.checkpoint), load_checkpoint(base_model(name))
    assert started.model_config == base.model_config
    for key, value in base.state_dict.items():
        assert torch.equal(started.state_dict[key], value), key
    assert started.meta["init_from"] == {"path": name, "style_name": base.meta["style_name"],
                                         "style_sha256": base.meta["style_sha256"]}


@pytest.mark.parametrize("name", BASES)
def test_every_packaged_base_grows_its_own_texture_well(name):
    base = load_checkpoint(base_model(name))
    assert base.meta["evaluation"]["verdict"] == "good"
    assert base.model_config == ModelConfig()  # the presets' shape, so --init needs no model options


SHORT = dict(preset=DEFAULT_PRESET, init="leopard", iterations=3, probe_every=0, check_steps=(16, 32), quiet=False,
             compile_step=False, threads=1)


def test_a_run_that_is_not_good_trains_again_from_the_second_start_and_keeps_the_better(tmp_path, capsys):
    # Three iterations from leopard's spots or pebbles' beans are nowhere near rust's flakes.
    out = tmp_path / "short"
    result = train(STYLE, out, retry="pebbles", **SHORT)
    err = capsys.readouterr().err
    assert "training again from the pebbles base: the first try is" in err
    kept = load_checkpoint(out)
    tries = kept.meta["tries"]
    assert [t["init"] for t in tries] == ["leopard", "pebbles"] and [t["name"] for t in tries] == ["leopard", "pebbles"]
    kept_init = kept.meta["init_from"]["path"]
    other_init = ({"leopard", "pebbles"} - {kept_init}).pop()
    by_init = {t["init"]: t for t in tries}
    ranks = {i: (VERDICTS.index(t["verdict"]), t["worst_style_ratio"]) for i, t in by_init.items()}
    assert ranks[kept_init] <= ranks[other_init]
    assert result.checkpoint == out / "checkpoint.pt" and result.evaluation == kept.meta["evaluation"]
    assert by_init[kept_init]["verdict"] == json.loads((out / "evaluation.json").read_text())["verdict"]
    # The run that was not kept is whole, in tries/<its start>/, and says where it started.
    other = out / "tries" / other_init
    assert {p.name for p in other.iterdir()} >= {"checkpoint.pt", "resume.pt", "metrics.jsonl", "evaluation.json",
                                                "style.png", "preview_rollout.png"}
    assert load_checkpoint(other).meta["init_from"]["path"] == other_init
    # Only the first try may stop early: the second follows a check that was not good.
    stops = {kept_init: kept.train_config.stop_below, other_init: load_checkpoint(other).train_config.stop_below}
    assert stops == {"leopard": PRESETS[DEFAULT_PRESET][1].stop_below, "pebbles": 0.0} and stops["leopard"] > 0
    assert sorted(p.name for p in (out / "tries").iterdir()) == [other_init]
    if result.evaluation["verdict"] != "good":
        assert "another start may hold where leopard and pebbles did not: --init rust, --init gravel" in err


def test_a_longer_try_goes_on_from_the_first_and_keeps_the_better(tmp_path, capsys):
    out = tmp_path / "longer"
    result = train(STYLE, out, retry="longer", **SHORT)
    err = capsys.readouterr().err
    assert f"training on to {2 * SHORT['iterations']} iterations: the first try is" in err
    kept = load_checkpoint(out)
    first, second = kept.meta["tries"]
    assert (first["name"], first["iterations"]) == ("leopard", 3) and (second["name"], second["iterations"]) == ("longer", 6)
    assert first["init"] == second["init"] == "leopard"
    longer_kept = kept.meta["iterations"] == 6
    assert longer_kept == ((VERDICTS.index(second["verdict"]), second["worst_style_ratio"])
                           < (VERDICTS.index(first["verdict"]), first["worst_style_ratio"]))
    other = out / "tries" / ("leopard" if longer_kept else "longer")
    assert sorted(p.name for p in (out / "tries").iterdir()) == [other.name]
    assert load_checkpoint(other).meta["iterations"] == (3 if longer_kept else 6)
    # The longer run went on from the first: its metrics hold the first's three iterations, then three more.
    metrics = [json.loads(line) for line in ((out if longer_kept else other) / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics if "loss" in m][-6:] == [1, 2, 3, 4, 5, 6]
    assert result.evaluation == kept.meta["evaluation"]
    assert "another start may hold where leopard did not: --init pebbles, --init rust, --init gravel" in err \
        or result.evaluation["verdict"] == "good"


def test_features_still_too_small_after_two_tries_train_a_third_at_a_smaller_style_size(tmp_path, capsys):
    # Three iterations from leopard's spots make features far smaller than the pebbles (scale ~1.5).
    out = tmp_path / "third"
    result = train(SOURCE_STYLE, out, retry="longer", **SHORT)
    err = capsys.readouterr().err
    kept = load_checkpoint(out)
    tries = kept.meta["tries"]
    third = tries[2]["name"]
    size = int(third.removeprefix("style"))
    assert size in (48, 64)  # the 96-pixel style / ~1.5, down to a multiple of 16
    assert f"training again from the leopard start at style size {size}" in err
    assert [(t["name"], t["iterations"]) for t in tries] == [("leopard", 3), ("longer", 6), (third, 6)]
    ranks = [(VERDICTS.index(t["verdict"]), t["worst_style_ratio"]) for t in tries]
    best = tries[ranks.index(min(ranks))]["name"]
    assert sorted(p.name for p in (out / "tries").iterdir()) == sorted({"leopard", "longer", third} - {best})
    assert result.evaluation == kept.meta["evaluation"] and kept.meta["iterations"] == (3 if best == "leopard" else 6)
    # The time the run reports is that of all three, the longer try's (which went on from the first's) and the third's.
    assert kept.meta["wall_time"] == round(result.wall_time, 2)
    assert result.wall_time > max(load_checkpoint(p).meta["wall_time"] for p in (out / "tries").iterdir())
    with Image.open(out / "style.png") as style:  # the style the kept model trained at
        assert max(style.size) == (size if best == third else 96) == max(kept.style_image.shape[:2])
    # The third is a new run from the base, as long as the longer try, not a fine-tune of an earlier try.
    restyled = load_checkpoint(out if best == third else out / "tries" / third)
    assert restyled.train_config.style_size == size and restyled.meta["init_from"]["path"] == "leopard"


def test_without_a_second_try_the_run_names_the_other_starts(tmp_path, capsys):
    result = train(STYLE, tmp_path / "once", retry="none", **SHORT)
    assert result.evaluation["verdict"] != "good"
    assert not (tmp_path / "once" / "tries").exists() and "tries" not in load_checkpoint(result.checkpoint).meta
    err = capsys.readouterr().err
    assert "another start may hold where leopard did not: --init pebbles, --init rust, --init gravel" in err


def test_runs_from_before_a_second_try_could_train_longer_keep_their_second_start():
    assert from_dict(TrainConfig, {"retry_init": "pebbles"}).retry == "pebbles"


def test_runs_from_before_the_bases_were_named_still_load():
    assert from_dict(TrainConfig, {"init": "base"}).init == "leopard"


def test_a_shape_the_base_model_lacks_is_refused_in_one_line_and_random_init_takes_it(tmp_path, nca):
    proc = nca("train", STYLE, "--channels", "8", "--iterations", "2", "--out", tmp_path / "out")
    assert_one_line_error(proc, f"--init {PRESETS[DEFAULT_PRESET][1].init} starts from a packaged base model "
                                "(12 channels, 96 hidden")
    assert "--init random" in proc.stderr and not (tmp_path / "out").exists()
    out = tmp_path / "random"
    train(STYLE, out, preset=DEFAULT_PRESET, init="random", channels=8, hidden=16, iterations=2, quiet=True,
          compile_step=False, check_steps=(), probe_every=0, threads=1)
    trained = load_checkpoint(out)
    assert trained.model_config.channels == 8 and "init_from" not in trained.meta
