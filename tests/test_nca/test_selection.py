"""Checkpoint selection inside a run: the best probed weights are handed on, training itself is untouched."""

import json

import torch

from nca.checkpoint import load_checkpoint
from nca.probe import probe_score
from nca.train import train
from tests.test_nca.test_train import FAST, STYLE, events, losses


def test_probing_keeps_the_best_probed_weights_and_resume_goes_on_from_the_latest(tmp_path):
    plain = train(STYLE, tmp_path / "plain", iterations=12, **FAST)
    probed = train(STYLE, tmp_path / "probed", iterations=12, probe_every=4, probe_from=0.5, **FAST)
    # The probe draws from its own random generators: the training itself is unchanged.
    assert losses(probed.out_dir) == losses(plain.out_dir)
    probes = [e for e in events(probed.out_dir) if e.get("event") == "probe"]
    assert [p["iteration"] for p in probes] == [8, 12]
    best = min(probes, key=lambda p: p["score"])  # ties keep the earlier one, as min() does
    assert [p["kept"] for p in probes] == [True, best["iteration"] == 12]
    assert all(p["score"] == probe_score({int(k): v for k, v in p["losses"].items()}) for p in probes)

    ckpt = load_checkpoint(probed.out_dir)
    assert ckpt.meta["selected_iteration"] == probed.selected_iteration == best["iteration"]
    assert ckpt.meta["iterations"] == 12
    at_best = load_checkpoint(train(STYLE, tmp_path / "short", iterations=best["iteration"], **FAST).checkpoint)
    assert all(torch.equal(ckpt.state_dict[k], at_best.state_dict[k]) for k in at_best.state_dict)
    latest = torch.load(probed.out_dir / "resume.pt", weights_only=True)["model"]
    assert all(torch.equal(latest[k], v) for k, v in load_checkpoint(plain.out_dir).state_dict.items())

    resumed = train(STYLE, probed.out_dir, resume=True, iterations=16, quiet=True, compile_step=False)
    assert resumed.iterations == 16
    assert [p["iteration"] for p in events(probed.out_dir) if p.get("event") == "probe"] == [8, 12, 16]


def test_a_run_ends_at_the_first_probe_that_holds_and_goes_on_when_resumed(tmp_path):
    probing = dict(iterations=12, probe_every=4, probe_from=0.5, **FAST)
    # No probe of a tiny model scores under 1e-9; every one scores under a million.
    full = train(STYLE, tmp_path / "full", stop_below=1e-9, **probing)
    assert full.iterations == 12
    stopped = train(STYLE, tmp_path / "stopped", stop_below=1e6, **probing)
    assert (stopped.iterations, stopped.status, stopped.selected_iteration) == (8, "finished", 8)
    assert losses(stopped.out_dir) == losses(full.out_dir)[:8]  # the same run, ended at its first probe
    assert [e["event"] for e in events(stopped.out_dir) if "event" in e] == ["probe", "stopped early"]
    ckpt = load_checkpoint(stopped.out_dir)
    assert ckpt.meta["iterations"] == 8 and ckpt.meta["stopped_early"] and ckpt.train_config.iterations == 12
    assert json.loads((stopped.out_dir / "evaluation.json").read_text())["verdict"]  # checked as any finished run
    # A probe at the last iteration ends the run anyway: that is no stop.
    last = train(STYLE, tmp_path / "last", stop_below=1e6, **dict(probing, iterations=8, probe_from=1.0))
    assert "stopped early" not in [e.get("event") for e in events(last.out_dir)]
    assert "stopped_early" not in load_checkpoint(last.out_dir).meta

    # Going on from a run that held trains the iterations it skipped, probing as it goes.
    resumed = train(STYLE, stopped.out_dir, resume=True, quiet=True, compile_step=False)
    assert resumed.iterations == 12
    assert [e["iteration"] for e in events(stopped.out_dir) if e.get("event") == "probe"] == [8, 12]
