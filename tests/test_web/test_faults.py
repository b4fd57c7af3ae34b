"""Faults that lost or corrupted runs, or answered with a 500: each reproduced, each fixed.

A killed server's worker, two writers on one run, a run that finished while nobody watched,
huge and narrow images, files deleted while they are served, hostile names, queue limits."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from exporter import export
from nca.runlock import run_lock
from nca.train import TrainingError, train
from tests.conftest import REPO, TEXTURES
from tests.test_e2e.serve import running_server
from tests.test_web.conftest import png_bytes, studio_client
from tests.test_web.helpers import make_bundle
from web.jobs import JobManager
from web.worker import ORPHAN_GRACE_SECONDS, _one_line


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def metric_iterations(run: Path) -> list[int]:
    return [json.loads(line)["iteration"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]


@pytest.mark.slow
def test_a_killed_server_takes_its_worker_along_and_the_job_resumes_cleanly(tmp_path):
    make_bundle(tmp_path / "bundled", "amber")
    with running_server(tmp_path, tmp_path / "bundled") as (url, proc):
        job = httpx.post(url + "/api/jobs", files={"image": ("s.png", png_bytes((64, 64)), "image/png")},
                         data={"preset": "tiny", "iterations": "400", "name": "long"}).json()
        run = tmp_path / "data" / "jobs" / job["id"] / "run"
        wait_until(lambda: httpx.get(f"{url}/api/jobs/{job['id']}").json()["iteration"] >= 15, 120, "progress")
        worker = int((run / ".lock").read_text())
        assert alive(worker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    wait_until(lambda: not alive(worker), ORPHAN_GRACE_SECONDS + 10, "the orphaned worker to exit")
    done = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["iteration"]
    assert done < 400  # it stopped when its server died, it did not train on alone

    with running_server(tmp_path, tmp_path / "bundled") as (url, _proc):
        after = httpx.get(f"{url}/api/jobs/{job['id']}").json()
        assert after["status"] == "interrupted" and after["resumable"]
        assert httpx.post(f"{url}/api/jobs/{job['id']}/resume").status_code == 200
        final = wait_until(lambda: (j := httpx.get(f"{url}/api/jobs/{job['id']}").json())["status"]
                           in ("finished", "failed") and j, 240, "the resumed job")
        assert final["status"] == "finished", final
        assert final["iteration"] == 400
    assert metric_iterations(run) == list(range(1, 401))  # each iteration once, in order


def test_a_run_directory_has_one_writer(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with run_lock(run):
        with pytest.raises(TrainingError, match="another process is training in run"):
            train(TEXTURES / "pebbles.png", run, preset="tiny", iterations=2, quiet=True, compile_step=False)
    assert not (run / "checkpoint.pt").exists()
    train(TEXTURES / "pebbles.png", run, preset="tiny", iterations=2, quiet=True, compile_step=False)
    assert (run / "checkpoint.pt").is_file()  # the lock went with its holder


def test_a_lock_held_by_another_process_is_respected_and_dies_with_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from nca.runlock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)"), str(run)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(TrainingError, match="another process"):
            train(TEXTURES / "pebbles.png", run, preset="tiny", iterations=2, quiet=True, compile_step=False)
    finally:
        holder.kill()
        holder.wait()
    train(TEXTURES / "pebbles.png", run, preset="tiny", iterations=2, quiet=True, compile_step=False)


def lost_job(settings, iterations, **options):
    """A job whose run completed while its server had lost track: job.json still says running."""
    with studio_client(settings) as c:
        job = c.post("/api/jobs", files={"image": ("s.png", png_bytes((64, 64)), "image/png")},
                     data={"preset": "tiny", "iterations": str(iterations)}).json()
    job_dir = settings.jobs_dir / job["id"]
    train((job_dir / "upload").read_bytes(), job_dir / "run", preset="tiny", iterations=iterations, quiet=True,
          compile_step=False, **options)
    state = json.loads((job_dir / "job.json").read_text())
    state.update(status="running", phase="training", iteration=1, runs=1)
    (job_dir / "job.json").write_text(json.dumps(state))
    return job["id"], job_dir


@pytest.fixture
def finished_job(settings):
    return lost_job(settings, 3)


def test_a_job_whose_run_finished_and_exported_is_finished_on_restart(settings, finished_job):
    job_id, job_dir = finished_job
    export(job_dir / "run", settings.models_dir, name=job_id)
    job = JobManager(settings).get(job_id)
    assert job.status == "finished" and job.model_id == job_id and job.iteration == 3 and not job.stopped_early


def test_a_job_whose_run_stopped_early_and_exported_is_finished_on_restart(settings):
    # Every probe of a tiny model scores under a million: the run ends at its first probe, 8 of 12.
    job_id, job_dir = lost_job(settings, 12, probe_every=4, stop_below=1e6)
    export(job_dir / "run", settings.models_dir, name=job_id)
    job = JobManager(settings).get(job_id)
    assert job.status == "finished" and job.model_id == job_id and (job.iteration, job.iterations) == (8, 12)
    assert job.stopped_early
    with studio_client(settings) as c:  # and the page hears it
        assert c.get(f"/api/jobs/{job_id}").json()["stopped_early"] is True


@pytest.mark.slow
def test_a_job_whose_run_finished_unexported_resumes_into_an_export(settings, finished_job):
    job_id, job_dir = finished_job
    live = dataclasses.replace(settings, start_jobs=True, train_threads=1)
    with studio_client(live) as c:
        job = c.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "interrupted" and job["iteration"] == 3
        assert c.post(f"/api/jobs/{job_id}/resume").status_code == 200
        final = wait_until(lambda: (j := c.get(f"/api/jobs/{job_id}").json())["status"] in ("finished", "failed")
                           and j, 120, "the export")
        assert final["status"] == "finished", final
        assert c.get(f"/api/models/{job_id}").status_code == 200
    assert metric_iterations(job_dir / "run") == [1, 2, 3]  # nothing trained twice


def test_decoding_a_huge_16_bit_png_stays_small(tmp_path):
    arr = np.zeros((8000, 8000), np.uint16)
    arr[::7] = 60000
    path = tmp_path / "huge16.png"
    Image.fromarray(arr).save(path)
    del arr
    probe = subprocess.run([sys.executable, "-c", (
        "import resource, sys\nfrom nca.image import load_style\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "img, _ = load_style(data, 128)\n"
        "print(img.size, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)"), str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    size, extra_mb = probe.stdout.rsplit(" ", 1)
    assert size == "(128, 128)"
    assert int(extra_mb) < 300, f"decoding took {extra_mb} MB more"


@pytest.mark.parametrize("size,fragment", [((4000, 16), "at least 32 px"), ((4000, 40), "too narrow"),
                                           ((600, 100), "too narrow")])
def test_narrow_uploads_are_refused_at_once(client, settings, size, fragment):
    r = client.post("/api/jobs", files={"image": ("n.png", png_bytes(size), "image/png")}, data={"preset": "quick"})
    assert r.status_code == 400 and fragment in r.json()["detail"]
    assert not any(settings.jobs_dir.iterdir())


def test_a_4_to_1_image_is_still_fine(client):
    r = client.post("/api/jobs", files={"image": ("n.png", png_bytes((256, 64)), "image/png")}, data={"preset": "quick"})
    assert r.status_code == 201


@pytest.mark.slow
def test_deleting_a_model_while_its_files_are_served_is_never_a_500(tmp_path):
    make_bundle(tmp_path / "bundled", "amber")
    files = ["model.json", "update.frag", "display.frag", "thumbnail.png", "checkpoint.pt"]
    sizes = {f: (tmp_path / "bundled" / "amber" / f).stat().st_size for f in files}
    statuses: list[int] = []
    short: list[str] = []
    with running_server(tmp_path, tmp_path / "bundled") as (url, _proc):
        for round_ in range(6):
            model_id = f"{round_:032x}"
            import shutil
            shutil.copytree(tmp_path / "bundled" / "amber", tmp_path / "data" / "models" / model_id)
            stop = threading.Event()

            def fetch(model_id=model_id, stop=stop):
                with httpx.Client() as http:
                    while not stop.is_set():
                        for f in files:
                            r = http.get(f"{url}/bundles/{model_id}/{f}")
                            statuses.append(r.status_code)
                            if r.status_code == 200 and len(r.content) != sizes[f]:
                                short.append(f)
            threads = [threading.Thread(target=fetch) for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.3)
            assert httpx.delete(f"{url}/api/models/{model_id}").status_code == 204
            time.sleep(0.2)
            stop.set()
            for t in threads:
                t.join(30)
        log = (tmp_path / "server.log").read_text()
    assert set(statuses) <= {200, 404} and 404 in statuses and 200 in statuses, set(statuses)
    assert not short and "Traceback" not in log


@pytest.mark.parametrize("name", [
    "\u202egnp.drapoel",  # right-to-left override: shows as "leopard.png" reversed
    "leo\u200bpard",  # zero-width space inside
    "\u200b\u200c\u200d",  # only zero-width characters: invisible
    "\u2066isolate\u2069",
    "line\u2028break",
    "\ufeffbom",
])
def test_names_that_could_spoof_or_hide_are_refused(client, settings, name):
    r = client.post("/api/jobs", files={"image": ("s.png", png_bytes(), "image/png")},
                    data={"preset": "tiny", "name": name})
    assert r.status_code == 422, r.text
    assert not any(settings.jobs_dir.iterdir())


def test_names_in_other_scripts_are_fine(client):
    for name in ("Léopard", "豹纹", "котик 2", "emoji 🐆"):
        r = client.post("/api/jobs", files={"image": ("s.png", png_bytes(), "image/png")},
                        data={"preset": "tiny", "name": name})
        assert r.status_code == 201 and r.json()["name"] == name


def test_a_default_name_from_a_spoofing_file_name_is_cleaned(client):
    r = client.post("/api/jobs", files={"image": ("\u202eevil\u200b.png", png_bytes(), "image/png")},
                    data={"preset": "tiny"})
    assert r.status_code == 201 and r.json()["name"] == "evil"


def test_queue_and_iteration_limits(settings):
    limited = dataclasses.replace(settings, max_active_jobs=2, max_iterations=500)
    with studio_client(limited) as c:
        def post(**data):
            return c.post("/api/jobs", files={"image": ("s.png", png_bytes(), "image/png")},
                          data={"preset": "tiny", **data})
        too_long = post(iterations="501")
        assert too_long.status_code == 422 and "at most 500 iterations" in too_long.json()["detail"]
        assert post(preset="standard").status_code == 422  # 4000 iterations by its preset
        assert post().status_code == 201 and post().status_code == 201
        full = post()
        assert full.status_code == 429 and "2 jobs" in full.json()["detail"]
        first = c.get("/api/jobs").json()[-1]
        c.post(f"/api/jobs/{first['id']}/cancel")
        assert post().status_code == 201  # a cancelled job frees its place


def test_upload_limit_is_stated_in_the_unit_it_enforces(client):
    body = png_bytes((64, 64)) + b"\0" * (20 * 1024 * 1024)
    r = client.post("/api/jobs", files={"image": ("big.png", body, "image/png")}, data={"preset": "tiny"})
    assert r.status_code == 413 and "20 MiB" in r.json()["detail"]


def test_errors_shown_to_the_page_carry_no_server_paths():
    err = TrainingError("nothing to resume in /home/me/studio-data/jobs/abc/run: no checkpoint.pt and resume.pt")
    line = _one_line(err)
    assert line == "nothing to resume in run: no checkpoint.pt and resume.pt"
    assert "/srv" not in _one_line(FileNotFoundError(2, "No such file or directory", "/srv/x/y.png"))
