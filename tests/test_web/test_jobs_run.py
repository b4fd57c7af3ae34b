"""Real training jobs in worker processes (tiny preset, a handful of iterations): progress over
SSE, export into the gallery, cancel, a crashing worker, and a restart that interrupts a job
which then resumes from its checkpoint."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from tests.test_web.conftest import png_bytes, studio_client

pytestmark = pytest.mark.slow


@pytest.fixture
def live_settings(settings):
    return dataclasses.replace(settings, start_jobs=True, train_threads=1)


def submit(client, iterations: int, name: str = "tiny test") -> dict:
    r = client.post("/api/jobs", files={"image": ("style.png", png_bytes((64, 64)), "image/png")},
                    data={"name": name, "preset": "tiny", "iterations": str(iterations)})
    assert r.status_code == 201, r.text
    return r.json()


def wait_for(client, job_id: str, statuses: tuple[str, ...], timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job['status']} after {timeout} s: {job}")


def read_events(client, job_id: str, after: int | None = None) -> list[tuple[str, dict]]:
    """The job's event stream to its end; `after`: resume after that event id (Last-Event-ID)."""
    events = []
    headers = {"Last-Event-ID": str(after)} if after is not None else {}
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=headers) as r:
        assert r.status_code == 200
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                events.append((kind, json.loads(line[6:])))
    return events


def test_job_streams_progress_and_lands_in_the_gallery(live_settings):
    with studio_client(live_settings) as client:
        job = submit(client, iterations=4, name="My tiny texture")
        events = read_events(client, job["id"])
        kinds = [k for k, _ in events]
        assert kinds[-1] == "end"
        progress = [d for k, d in events if k == "progress"]
        assert [p["iteration"] for p in progress] == [1, 2, 3, 4]
        assert all(p["iterations"] == 4 and p["loss"] > 0 and p["it_per_s"] > 0 for p in progress)
        statuses = [d["status"] for k, d in events if k == "job"]
        assert statuses[-1] == "finished" and "running" in statuses
        previews = [d for k, d in events if k == "preview"]
        assert previews and previews[0]["url"].startswith(f"/api/jobs/{job['id']}/preview.png")

        done = client.get(f"/api/jobs/{job['id']}").json()
        assert done["status"] == "finished" and done["model_id"] == job["id"] and done["iteration"] == 4
        assert client.get(done["preview_url"]).content[:4] == b"\x89PNG"
        assert client.get(done["style_url"]).status_code == 200
        models = {m["id"]: m for m in client.get("/api/models").json()}
        model = models[job["id"]]
        assert model["name"] == "My tiny texture" and model["bundled"] is False and model["job_id"] == job["id"]
        bundle = client.get(f"{model['bundle_url']}model.json").json()
        assert bundle["channels"] == 8 and bundle["training"]["iterations"] == 4
        assert client.get(model["thumbnail_url"]).status_code == 200
        assert json.loads((live_settings.jobs_dir / job["id"] / "job.json").read_text())["status"] == "finished"


def test_a_crashing_worker_fails_the_job_not_the_server(live_settings):
    crashy = dataclasses.replace(live_settings, worker="tests.test_web.crash_worker:main")
    with studio_client(crashy) as client:
        job = submit(client, iterations=2)
        failed = wait_for(client, job["id"], ("failed",), timeout=60)
        assert "exit code 3" in failed["error"] and failed["resumable"] is True
        assert client.get("/api/health").json()["status"] == "ok"
        second = submit(client, iterations=2)  # the queue keeps going
        assert wait_for(client, second["id"], ("failed",), timeout=60)["status"] == "failed"


def wait_for_iteration(client, job_id: str, iteration: int, timeout: float = 120) -> None:
    """Poll until the running job has logged `iteration` training iterations."""
    deadline = time.monotonic() + timeout
    while client.get(f"/api/jobs/{job_id}").json()["iteration"] < iteration:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_cancel_a_running_job_keeps_its_checkpoint(live_settings):
    with studio_client(live_settings) as client:
        job = submit(client, iterations=500)
        wait_for_iteration(client, job["id"], 1)
        r = client.post(f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "running"  # stops at the next iteration
        done = wait_for(client, job["id"], ("cancelled",), timeout=60)
        assert 1 <= done["iteration"] < 500 and done["resumable"] is True
        assert (live_settings.jobs_dir / job["id"] / "run" / "checkpoint.pt").is_file()
        assert job["id"] not in {m["id"] for m in client.get("/api/models").json()}


def test_restart_interrupts_a_running_job_which_then_resumes(live_settings):
    with studio_client(live_settings) as client:
        job = submit(client, iterations=8)
        wait_for_iteration(client, job["id"], 2)
    # The server has shut down: the worker checkpointed and the job is interrupted.
    state = json.loads((live_settings.jobs_dir / job["id"] / "job.json").read_text())
    assert state["status"] == "interrupted", state
    stopped_at = state["iteration"]
    assert 2 <= stopped_at < 8
    with studio_client(live_settings) as client:
        assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "interrupted"
        assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 200
        events = read_events(client, job["id"])
        progress = [d["iteration"] for k, d in events if k == "progress"]
        assert progress and progress[0] > stopped_at and progress[-1] == 8  # continued, not restarted
        done = client.get(f"/api/jobs/{job['id']}").json()
        assert done["status"] == "finished" and done["runs"] == 2
        assert job["id"] in {m["id"] for m in client.get("/api/models").json()}


# Three iterations grow features far smaller than the pebbles, so the third try trains again at a smaller
# style, from 0 to twice the iterations.
@pytest.mark.parametrize("retry, iterations, names", [
    ("longer", [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], ["leopard", "longer"]),  # fast's: goes on
    ("pebbles", [1, 2, 3, 1, 2, 3, 1, 2, 3, 4, 5, 6], ["leopard", "pebbles"]),  # another start, at 0
])
def test_more_tries_stream_on_and_export_the_model_kept(tmp_path, retry, iterations, names):
    """The worker as a job runs it, in this process: a `fast` job whose first try is not good tries
    again; live versions keep counting up, and the bundle is the model kept."""
    import queue
    import threading

    from nca.checkpoint import load_checkpoint
    from tests.conftest import TEXTURES
    from web.worker import _run

    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "upload").write_bytes((TEXTURES / "pebbles.png").read_bytes())
    spec = {"job_dir": str(job_dir), "job_id": "a" * 32, "model_id": "kept", "models_dir": str(tmp_path / "models"),
            "name": "two tries", "preset": "fast", "threads": 1, "live_every": 2, "live_seconds": 0.0,
            # Three iterations learn nothing, so the first try is not good; a short check keeps it quick.
            "options": {"iterations": 3, "check_steps": [16, 32], "probe_every": 0, "seed_reset_every": 1,
                        "retry": retry}}
    messages = queue.Queue()
    with (tmp_path / "worker.log").open("w") as log:
        _run(spec, messages, threading.Event(), log)
    sent = []
    while not messages.empty():
        sent.append(messages.get())
    phases = [m["phase"] for m in sent if m["type"] == "phase"]
    assert phases.count("retrying") == 2 and phases.index("retrying") > phases.index("evaluating")
    assert [m["iteration"] for m in sent if m["type"] == "progress"] == iterations
    live = [m["iteration"] for m in sent if m["type"] == "live"]
    assert live == sorted(set(live)) and max(live) > 6  # each try's versions come after the earlier tries'
    assert sent[-1]["type"] == "finished"
    run = load_checkpoint(job_dir / "run")
    third = run.meta["tries"][2]["name"]
    assert [t["name"] for t in run.meta["tries"]] == [*names, third] and third.startswith("style")
    bundled = json.loads((tmp_path / "models" / "kept" / "model.json").read_text())
    assert bundled["quality"]["verdict"] == run.meta["evaluation"]["verdict"] == sent[-1]["verdict"]
    assert bundled["training"]["init_from"]["path"] == run.meta["init_from"]["path"]
    assert bundled["training"]["tries"] == run.meta["tries"] and bundled["training"]["iterations"] == run.meta["iterations"]
    # The smaller-style try is a new run from a packaged base, not a fine-tune of an earlier try.
    size = int(third.removeprefix("style"))
    restyled = next(p for p in (job_dir / "run", job_dir / "run" / "tries" / third) if (p / "checkpoint.pt").exists()
                    and load_checkpoint(p).train_config.style_size == size)
    assert load_checkpoint(restyled).meta["init_from"]["path"] in ("leopard", "pebbles")
