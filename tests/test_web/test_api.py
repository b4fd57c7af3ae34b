"""Every route of the studio API with the app factory, a temp data dir and no worker running
(start_jobs=False): models, bundle files, jobs, events, the page, and every kind of bad input."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from tests.test_web.conftest import png_bytes, studio_client
from tests.test_web.helpers import make_bundle
from web.jobs import JobManager

HEX_ID = "0123456789abcdef0123456789abcdef"
BAD_IDS = ["nope", "..", "%2e%2e", "..%2fdata", "a%2fb", "x" * 300, "%00", "-leading", "a.b"]


def post_job(client, data=None, image=None, filename="style.png", content_type="image/png"):
    files = {"image": (filename, png_bytes() if image is None else image, content_type)}
    return client.post("/api/jobs", files=files, data={"name": "test", "preset": "tiny", **(data or {})})


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(side: int = 50_000) -> bytes:
    """A tiny file that declares a side x side image (2.5 gigapixels)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


# ---- meta, page, static ------------------------------------------------------------------------

def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["models"] == 2 and body["jobs_running"] == 0
    assert "tiny" in body["presets"] and body["max_upload_bytes"] == 20 * 1024 * 1024


def test_page_renders_with_controls_and_modules(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for marker in ('id="canvas"', 'id="gallery"', 'id="train-form"', 'src="/static/js/main.js',
                   'value="tiny"', 'id="btn-record"', 'id="btn-scenario"', "up to 20 MiB"):
        assert marker in html
    for js in ("main.js", "ui.js", "api.js", "nca.js", "gl.js", "field.js"):
        s = client.get(f"/static/js/{js}")
        assert s.status_code == 200 and "javascript" in s.headers["content-type"]
    assert client.get("/static/css/studio.css").status_code == 200


def test_openapi_lists_every_route(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/models", "/api/models/{model_id}", "/bundles/{model_id}/{filename}", "/api/jobs",
                 "/api/jobs/{job_id}", "/api/jobs/{job_id}/events", "/api/jobs/{job_id}/cancel",
                 "/api/jobs/{job_id}/resume", "/api/jobs/{job_id}/preview.png", "/api/health"):
        assert path in paths, path
    assert set(paths["/api/models/{model_id}"]) == {"get", "delete"}


# ---- models ------------------------------------------------------------------------------------

def test_list_models_bundled_then_trained(client, settings):
    make_bundle(settings.models_dir, "violet")
    (settings.models_dir / "violet" / "studio.json").write_text(json.dumps({"title": "My violet", "job_id": HEX_ID}))
    models = client.get("/api/models").json()
    assert [(m["id"], m["bundled"]) for m in models] == [("amber", True), ("teal", True), ("violet", False)]
    violet = models[2]
    assert violet["name"] == "My violet" and violet["job_id"] == HEX_ID
    assert violet["bundle_url"] == "/bundles/violet/" and violet["thumbnail_url"] == "/bundles/violet/thumbnail.png"
    assert violet["channels"] == 8 and violet["parameter_count"] > 0


def test_listing_skips_broken_and_hidden_dirs(client, settings):
    (settings.models_dir / "broken").mkdir(parents=True)
    (settings.models_dir / "broken" / "model.json").write_text("{not json")
    (settings.models_dir / "other").mkdir()
    (settings.models_dir / "other" / "model.json").write_text(json.dumps({"schema": "something-else"}))
    (settings.models_dir / ".tmp-export").mkdir()
    assert [m["id"] for m in client.get("/api/models").json()] == ["amber", "teal"]
    assert client.get("/api/models/broken").status_code == 404


def test_get_model_detail(client):
    r = client.get("/api/models/amber")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "amber" and body["bundled"] is True
    assert body["bundle"]["schema"] == "nca-studio/model-bundle"
    assert set(body["bundle"]["shaders"]) == {"update", "graft", "network", "display", "brush", "seed"}


@pytest.mark.parametrize("bad", BAD_IDS)
def test_unknown_or_malformed_model_ids_are_404(client, bad):
    assert client.get(f"/api/models/{bad}").status_code == 404
    assert client.delete(f"/api/models/{bad}").status_code == 404
    assert client.get(f"/bundles/{bad}/model.json").status_code == 404


def test_bundle_files_served(client):
    info = client.get("/bundles/amber/model.json")
    assert info.status_code == 200 and info.json()["name"] == "amber"
    assert info.headers["cache-control"] == "no-cache"
    for file in info.json()["shaders"].values():
        frag = client.get(f"/bundles/amber/{file}")
        assert frag.status_code == 200 and frag.text.startswith(("//", "#version"))
    thumb = client.get("/bundles/amber/thumbnail.png")
    assert thumb.status_code == 200 and thumb.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["..%2f..%2fetc%2fpasswd", "missing.frag", "model.py", ".hidden.json",
                                  "model.json.bak", "%2e%2e", "x" * 80 + ".json"])
def test_bundle_file_names_are_validated(client, name):
    assert client.get(f"/bundles/amber/{name}").status_code == 404


def test_delete_bundled_model_is_forbidden(client, bundled_dir):
    r = client.delete("/api/models/amber")
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    assert (bundled_dir / "amber" / "model.json").is_file()


def test_delete_trained_model(client, settings):
    make_bundle(settings.models_dir, "violet")
    assert client.delete("/api/models/violet").status_code == 204
    assert not (settings.models_dir / "violet").exists()
    assert client.get("/api/models/violet").status_code == 404
    assert client.delete("/api/models/violet").status_code == 404


# ---- jobs: creation and bad input --------------------------------------------------------------

def test_create_job_queues_and_persists(client, settings):
    r = post_job(client, {"preset": "fast", "iterations": "5", "loss": "swd", "init": "rust"})
    assert r.status_code == 201, r.text
    job = r.json()
    assert len(job["id"]) == 32 and job["status"] == "queued" and job["queue_position"] == 1
    assert job["name"] == "test" and job["preset"] == "fast"
    assert job["options"] == {"iterations": 5, "loss": "swd", "init": "rust"}
    assert job["resumable"] is False and job["preview_url"] is None
    job_dir = settings.jobs_dir / job["id"]
    assert (job_dir / "upload").read_bytes() == png_bytes()
    assert json.loads((job_dir / "job.json").read_text())["status"] == "queued"
    assert client.get(f"/api/jobs/{job['id']}").json()["id"] == job["id"]
    second = post_job(client).json()
    listed = client.get("/api/jobs").json()
    assert [j["id"] for j in listed] == [second["id"], job["id"]]  # newest first
    assert listed[0]["queue_position"] == 2


def test_job_name_defaults_to_the_file_name_and_never_becomes_a_path(client, settings):
    r = client.post("/api/jobs", files={"image": ("../../etc/evil name.png", png_bytes(), "image/png")},
                    data={"preset": "tiny"})
    assert r.status_code == 201
    job = r.json()
    assert job["name"] == "evil name"
    assert sorted(p.name for p in (settings.jobs_dir / job["id"]).iterdir()) == ["job.json", "upload"]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP"])
def test_other_image_formats_accepted(client, fmt):
    r = client.post("/api/jobs", files={"image": ("x", png_bytes(fmt=fmt), "application/octet-stream")},
                    data={"preset": "tiny"})
    assert r.status_code == 201, r.text


def test_missing_image_is_422(client):
    r = client.post("/api/jobs", data={"name": "x", "preset": "tiny"})
    assert r.status_code == 422


@pytest.mark.parametrize("payload", [b"hello, this is text", b"%PDF-1.4 not an image", b"\0" * 100])
def test_non_image_is_415(client, payload):
    r = post_job(client, image=payload, filename="x.png")
    assert r.status_code == 415
    assert "not an image" in r.json()["detail"]


def test_empty_upload_is_400(client):
    r = post_job(client, image=b"")
    assert r.status_code == 400 and "empty" in r.json()["detail"]


def test_corrupt_image_is_400(client):
    data = png_bytes(size=(64, 64))
    r = post_job(client, image=data[: len(data) // 2])
    assert r.status_code == 400
    assert "corrupt" in r.json()["detail"] or "truncated" in r.json()["detail"]


def test_too_small_image_is_400(client):
    r = post_job(client, image=png_bytes(size=(8, 8)))
    assert r.status_code == 400 and "32 px" in r.json()["detail"]


def test_decompression_bomb_refused(client, settings):
    r = post_job(client, image=bomb_png())
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]
    assert not any(settings.jobs_dir.iterdir())


def test_upload_over_20_mb_is_413(client, settings):
    big = png_bytes() + b"\0" * (20 * 1024 * 1024 + 10)
    r = post_job(client, image=big)
    assert r.status_code == 413 and "20 MiB" in r.json()["detail"]
    assert not any(settings.jobs_dir.iterdir())


def test_upload_limit_enforced_while_reading(tmp_path, bundled_dir):
    """Just over the limit: within the Content-Length slack, so the route's own check refuses it."""
    from web.settings import Settings

    s = Settings(data_dir=tmp_path / "d", bundled_models_dir=bundled_dir, start_jobs=False, max_upload_bytes=4096)
    with studio_client(s) as c:
        assert post_job(c, image=png_bytes()).status_code == 201
        r = post_job(c, image=png_bytes() + b"\0" * 5000)
        assert r.status_code == 413


@pytest.mark.parametrize("data", [
    {"preset": "enormous"},
    {"iterations": "0"},
    {"iterations": "-3"},
    {"iterations": "1000001"},
    {"iterations": "many"},
    {"loss": "l2"},
    {"init": "base"},
    {"name": "x" * 65},
    {"name": "bad\nname"},
    {"name": "tab\there"},
])
def test_invalid_options_are_422(client, data, settings):
    r = post_job(client, data)
    assert r.status_code == 422, r.text
    assert not any(settings.jobs_dir.iterdir())


def test_a_packaged_start_for_a_preset_of_another_shape_is_422(client, settings):
    r = post_job(client, {"preset": "tiny", "init": "pebbles"})
    assert r.status_code == 422
    assert r.json()["detail"] == ("preset tiny trains another model shape than the packaged start pebbles: "
                                  "start it from random")
    assert not any(settings.jobs_dir.iterdir())
    assert post_job(client, {"preset": "tiny", "init": "random"}).status_code == 201


def test_preset_not_offered_by_this_server_is_422(tmp_path, bundled_dir):
    from web.settings import Settings

    s = Settings(data_dir=tmp_path / "d", bundled_models_dir=bundled_dir, start_jobs=False, presets=("quick",))
    with studio_client(s) as c:
        r = post_job(c, {"preset": "tiny"})
        assert r.status_code == 422 and "not offered" in r.json()["detail"]


# ---- jobs: lifecycle without a worker ----------------------------------------------------------

@pytest.mark.parametrize("bad", ["nope", HEX_ID, HEX_ID.upper(), "..", "%2e%2e", "x" * 300])
def test_unknown_or_malformed_job_ids_are_404(client, bad):
    assert client.get(f"/api/jobs/{bad}").status_code == 404
    assert client.get(f"/api/jobs/{bad}/events").status_code == 404
    assert client.post(f"/api/jobs/{bad}/cancel").status_code == 404
    assert client.post(f"/api/jobs/{bad}/resume").status_code == 404
    assert client.delete(f"/api/jobs/{bad}").status_code == 404
    assert client.get(f"/api/jobs/{bad}/preview.png").status_code == 404
    assert client.get(f"/api/jobs/{bad}/style.png").status_code == 404


def test_cancel_and_resume_a_queued_job(client):
    job = post_job(client).json()
    assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 409  # queued: nothing to resume
    r = client.post(f"/api/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["resumable"] is True
    again = client.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    r = client.post(f"/api/jobs/{job['id']}/resume")
    assert r.status_code == 200 and r.json()["status"] == "queued"


def test_delete_job(client, settings):
    job = post_job(client).json()
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 409  # still queued
    client.post(f"/api/jobs/{job['id']}/cancel")
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert not (settings.jobs_dir / job["id"]).exists()
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404


def test_preview_and_style_404_before_training(client):
    job = post_job(client).json()
    assert client.get(f"/api/jobs/{job['id']}/preview.png").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/style.png").status_code == 404


def test_events_of_a_finished_state_job_end_the_stream(client):
    job = post_job(client).json()
    client.post(f"/api/jobs/{job['id']}/cancel")
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert "retry: 2000" in text
    events = [block for block in text.split("\n\n") if block.startswith("id:") or block.startswith("event:")]
    assert events[0].splitlines()[1] == "event: job"
    assert json.loads(events[0].splitlines()[2][len("data: "):])["status"] == "cancelled"
    assert events[-1].startswith("event: end")


def test_running_job_becomes_interrupted_after_a_restart(settings):
    with studio_client(settings) as c:
        job = post_job(c).json()
    # Pretend the server died while the job ran.
    path = settings.jobs_dir / job["id"] / "job.json"
    state = json.loads(path.read_text())
    state.update(status="running", phase="training", iteration=7, iterations=20, runs=1)
    path.write_text(json.dumps(state))
    with studio_client(settings) as c:
        after = c.get(f"/api/jobs/{job['id']}").json()
        assert after["status"] == "interrupted" and after["resumable"] is True and after["iteration"] == 7
        assert "resume" in after["error"]
        assert c.post(f"/api/jobs/{job['id']}/resume").json()["status"] == "queued"
    assert json.loads(path.read_text())["status"] == "queued"
    # A queued job survives a restart queued.
    with studio_client(settings) as c:
        assert c.get(f"/api/jobs/{job['id']}").json()["queue_position"] == 1


def test_unreadable_job_dirs_are_skipped(settings):
    bad = settings.jobs_dir / HEX_ID
    bad.mkdir(parents=True)
    (bad / "job.json").write_text("{oops")
    (settings.jobs_dir / "not-a-job").mkdir()
    manager = JobManager(settings)
    assert manager.list() == []


def test_each_further_try_shows_in_the_job_until_it_ends(settings):
    """The worker's messages as web/worker.py sends them around more tries (nca/retry.py)."""
    from web.jobs import protocol

    manager = JobManager(settings)
    job = manager._jobs[manager.submit(png_bytes(), "two starts", "fast", {}).id]  # the one the worker's loop updates
    manager._handle(job, protocol.started(False))
    manager._handle(job, protocol.progress(200, 200, 0.1, 2.0, 0.0, 0.002, {}))
    manager._handle(job, protocol.phase("evaluating"))
    assert job.start == 1
    manager._handle(job, protocol.phase("retrying"))
    manager._handle(job, protocol.progress(1, 200, 0.2, 2.0, 99.0, 0.002, {}))
    assert (job.start, job.phase, job.iteration) == (2, "training", 1)
    assert manager.get(job.id).to_dict()["start"] == 2
    manager._handle(job, protocol.phase("retrying"))  # still not good: a third try
    manager._handle(job, protocol.progress(1, 200, 0.2, 2.0, 99.0, 0.002, {}))
    assert (job.start, job.phase, job.iteration) == (3, "training", 1)
    manager._handle(job, protocol.phase("retrying"))  # the kept model drifts: a fourth try steadies it
    manager._handle(job, protocol.progress(1, 200, 0.2, 2.0, 99.0, 0.002, {}))
    assert (job.start, job.phase, job.iteration) == (4, "training", 1)
    manager._handle(job, protocol.started(True))  # a resumed job begins with its first start's run
    assert job.start == 1
