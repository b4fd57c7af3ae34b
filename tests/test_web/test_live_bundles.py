"""Live bundles and phases of a training job: the current weights exported while it trains and
served under /api/jobs/{id}/live/, the phases and remaining time it streams, "cancelling" at once,
and training that stays bit-identical when live snapshots are taken."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest
import torch

from nca.checkpoint import load_checkpoint
from nca.config import preset
from nca.selection import CheckpointSelection
from tests.test_web.conftest import png_bytes, studio_client
from tests.test_web.test_jobs_run import read_events, submit, wait_for_iteration
from web.jobs.live import KEEP, LiveWriter, versions
from web.jobs.remaining import Remaining


@pytest.fixture
def live_settings(settings):
    return dataclasses.replace(settings, start_jobs=True, train_threads=1, live_every_iterations=6,
                               live_every_seconds=0.0)


UNKNOWN = "0" * 32


def read_all_events(client, job_id: str) -> list[tuple[str, dict]]:
    """The job's whole event stream, from the event after its creation (Last-Event-ID 1) to the end."""
    return read_events(client, job_id, after=1)


@pytest.mark.slow
def test_live_bundles_are_served_while_training_and_go_when_it_finishes(live_settings):
    with studio_client(live_settings) as client:
        job = submit(client, iterations=40, name="live one")
        job_id = job["id"]
        deadline = time.monotonic() + 240
        while True:  # a live bundle while the job still trains
            current = client.get(f"/api/jobs/{job_id}").json()
            if current["live_url"] and current["status"] == "running":
                break
            assert current["status"] in ("queued", "running") and time.monotonic() < deadline, current
            time.sleep(0.05)
        url = current["live_url"]
        assert url == f"/api/jobs/{job_id}/live/{current['live_iteration']}/"
        r = client.get(f"{url}model.json")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        bundle = r.json()
        assert bundle["schema"] == "nca-studio/model-bundle" and bundle["channels"] == 8
        assert bundle["name"] == str(current["live_iteration"])
        assert bundle["training"]["iterations"] == current["live_iteration"]
        for kind, file in bundle["shaders"].items():
            shader = client.get(f"{url}{file}")
            # The network shader is a function spliced into another model's graft pass, not a program.
            whole = "nca_network(" if kind == "network" else "void main"
            assert shader.status_code == 200 and whole in shader.text
        assert client.get(f"{url}thumbnail.png").content[:4] == b"\x89PNG"
        # What is not a live bundle file of a known job is a 404, never a path.
        assert client.get(f"/api/jobs/{UNKNOWN}/live/{current['live_iteration']}/model.json").status_code == 404
        assert client.get("/api/jobs/not-a-job/live/6/model.json").status_code == 404
        assert client.get(f"/api/jobs/{job_id}/live/999999/model.json").status_code == 404
        assert client.get(f"/api/jobs/{job_id}/live/x/model.json").status_code == 404
        assert client.get(f"/api/jobs/{job_id}/live/{current['live_iteration']}/..%2Fjob.json").status_code == 404
        assert client.get(f"/api/jobs/{job_id}/live/{current['live_iteration']}/job.txt").status_code == 404

        events = read_all_events(client, job_id)
        lives = [d for k, d in events if k == "live"]
        iterations = [d["iteration"] for d in lives]
        assert len(lives) >= 2 and iterations == sorted(set(iterations)), iterations
        assert all(d["url"] in (None, f"/api/jobs/{job_id}/live/{d['iteration']}/") for d in lives)
        phases = [d["phase"] for k, d in events if k == "job" and d["phase"]]
        for wanted in ("loading", "compiling", "training", "evaluating", "exporting"):
            assert wanted in phases, phases
        assert phases.index("compiling") < phases.index("training") < phases.index("evaluating") \
            < phases.index("exporting")
        progress = [d for k, d in events if k == "progress"]
        # The remaining time counts the phases after training: never "0 s" while there is work left.
        last = progress[-1]["remaining"]
        assert last.get("training", 0) == 0 and last["evaluating"] > 0 and last["exporting"] > 0
        assert all(set(p["remaining"]) >= {"evaluating", "exporting"} for p in progress[1:])
        evaluating = next(d for k, d in events if k == "job" and d["phase"] == "evaluating")
        assert evaluating["remaining_s"] > 0 and "training" not in evaluating["remaining"]

        done = client.get(f"/api/jobs/{job_id}").json()
        assert done["status"] == "finished" and done["live_url"] is None and done["remaining_s"] is None
        assert client.get(f"{url}model.json").status_code == 404  # the final model replaced it
        assert not (live_settings.jobs_dir / job_id / "live").exists()


@pytest.mark.slow
def test_cancel_shows_cancelling_at_once_and_keeps_it(live_settings):
    with studio_client(live_settings) as client:
        job = submit(client, iterations=500)
        wait_for_iteration(client, job["id"], 1)
        r = client.post(f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 200
        assert r.json()["status"] == "running" and r.json()["phase"] == "cancelling"
        assert r.json()["remaining_s"] is None
        seen = set()
        while (now := client.get(f"/api/jobs/{job['id']}").json())["status"] == "running":
            seen.add(now["phase"])
            time.sleep(0.02)
        assert seen == {"cancelling"}, seen
        assert now["status"] == "cancelled" and now["phase"] is None
        assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 409


def test_live_routes_404_for_unknown_jobs(client):
    assert client.get(f"/api/jobs/{UNKNOWN}/live/1/model.json").status_code == 404
    assert client.get("/api/jobs/nope/live/1/model.json").status_code == 404
    r = client.post("/api/jobs", files={"image": ("s.png", png_bytes(), "image/png")}, data={"preset": "tiny"})
    job = r.json()  # queued (the manager is not started): no live bundle yet
    assert job["live_url"] is None and job["live_iteration"] is None and job["remaining"] == {}
    assert client.get(f"/api/jobs/{job['id']}/live/1/model.json").status_code == 404


def test_live_writer_is_due_after_n_iterations_and_s_seconds_whichever_is_later(tmp_path):
    now = [100.0]
    writer = LiveWriter(tmp_path, every=5, seconds=10.0, clock=lambda: now[0])
    assert not writer.due(1)
    assert not writer.due(5)  # 5 iterations (1..5), but only 0 s
    now[0] = 111.0
    assert writer.due(5)
    writer.last_iteration, writer.last_time = 5, now[0]
    now[0] = 200.0
    assert not writer.due(9) and writer.due(10)  # seconds are long past, iterations not yet
    assert not LiveWriter(tmp_path, every=0, seconds=0.0).due(1000)


def test_training_is_bit_identical_with_live_bundles(tmp_path):
    """Live snapshots and exports in the progress callback leave every weight and loss as it was."""
    from nca.train import train

    style = png_bytes((64, 64))
    kwargs = dict(preset="tiny", iterations=12, quiet=True, compile_step=False, device="cpu", check_steps=())
    plain = train(style, tmp_path / "plain", **kwargs)
    writer = LiveWriter(tmp_path / "job", every=3, seconds=0.0)
    written = []

    def progress(info):
        if "snapshot" in info and writer.due(info["iteration"]):
            writer.write(info["snapshot"], info["iteration"])
            written.append(info["iteration"])

    watched = train(style, tmp_path / "watched", progress=progress, **kwargs)
    assert written == [3, 6, 9, 12]
    assert versions(tmp_path / "job") == written[-KEEP:]  # older versions are removed
    a, b = load_checkpoint(plain.checkpoint), load_checkpoint(watched.checkpoint)
    assert a.state_dict.keys() == b.state_dict.keys()
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    assert plain.final_loss == watched.final_loss
    live = load_checkpoint(tmp_path / "job" / "live" / "12" / "checkpoint.pt")
    assert all(torch.equal(live.state_dict[k], b.state_dict[k]) for k in b.state_dict)  # the weights at 12


@pytest.mark.parametrize("name", ["fast", "quick", "classic", "tiny"])
@pytest.mark.parametrize("iteration", [0, 1, 249, 250, 299, 300, 499, 500, 999])
def test_probes_left_matches_the_selection_schedule(name, iteration):
    model_cfg, cfg = preset(name)
    cfg = dataclasses.replace(cfg, probe_every=cfg.probe_every or 7)
    selection = CheckpointSelection(cfg)
    expected = sum(selection.due(i) for i in range(iteration + 1, cfg.iterations + 1))
    assert Remaining(model_cfg, cfg).probes_left(iteration) == expected


def test_remaining_counts_the_phases_still_to_come():
    clock = [0.0]
    left = Remaining(*preset("quick"), live_thumbnail_steps=64, clock=lambda: clock[0])
    assert left.parts(0, "loading") == {}  # nothing measured yet: no figure rather than a made-up one
    left.iteration_done(1, 5.0)  # compile
    for i in range(2, 10):
        left.iteration_done(i, 1.0)
    parts = left.parts(9)
    assert list(parts) == ["training", "probing", "evaluating", "exporting"]
    assert parts["training"] == pytest.approx(491.0)
    assert all(v > 0 for v in parts.values())
    left.phase_started("probing")
    clock[0] = 12.5
    left.phase_started("training")
    assert left.probe_s == 12.5 and left.parts(9)["probing"] == pytest.approx(12.5 * 3)  # probes at 300, 400, 500
    left.export_done(0.5)
    assert list(left.parts(500, "evaluating")) == ["evaluating", "exporting"]
    assert list(left.parts(500, "exporting")) == ["exporting"] and left.parts(500, "exporting")["exporting"] > 0.5
    assert left.parts(500, "cancelling") == {}
    assert all(math.isfinite(v) for v in left.parts(9).values())


def test_the_closing_rollouts_cost_less_where_only_the_firing_cells_update():
    parts = {}
    for device in ("cpu", "cuda"):
        left = Remaining(*preset("fast"), device_type=device)
        for i in range(1, 5):
            left.iteration_done(i, 1.0)
        parts[device] = left.parts(200, "evaluating")["evaluating"]
    assert 0.4 * parts["cuda"] < parts["cpu"] < 0.7 * parts["cuda"]  # the check's rollout dominates; half the cells fire
