"""Taking a model away and videos rendered by the server, through the app (TestClient, no worker
for training): /api/models/{id}/bundle.zip, checkpoint.pt, standalone.html and POST .../video.

Videos are decoded with the ffmpeg that `nca record` writes them with (imageio-ffmpeg): a real
duration in the container, one pixel per cell, the frames `nca.record.record` makes itself.
"""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from exporter import export
from nca.checkpoint import load_checkpoint
from tests.conftest import write_checkpoint
from tests.test_web.conftest import studio_client
from tests.test_web.helpers import TARGETS, make_bundle, textured_model
from web.settings import Settings
from web.videos import ClientGone, VideoJob, VideoRenderer

HEX_ID = "0123456789abcdef0123456789abcdef"
BAD_IDS = ["nope", "..", "%2e%2e", "..%2fdata", "a%2fb", "x" * 300, "%00", "-leading", "a.b"]
DOWNLOADS = ("bundle.zip", "checkpoint.pt", "standalone.html")


def decode(data: bytes, tmp_path: Path, name: str) -> tuple[dict, np.ndarray]:
    """(container metadata as ffmpeg reads it: size, fps, duration; frames N x H x W x 3)."""
    path = tmp_path / name
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    frames = np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])
    return meta, frames


def one_line(r) -> str:
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail, detail
    return detail


# ---- take it away ------------------------------------------------------------------------------

def test_bundle_zip_is_the_bundle_and_its_checkpoint_loads(client, tmp_path):
    r = client.get("/api/models/amber/bundle.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="amber.zip"'
    assert r.headers["x-content-type-options"] == "nosniff"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        info = json.loads(zf.read("amber/model.json"))
        zf.extractall(tmp_path)
    shaders = {f"amber/{f}" for f in info["shaders"].values()}
    assert len(shaders) == 6 and shaders <= names
    assert {"amber/model.json", "amber/thumbnail.png", "amber/checkpoint.pt"} <= names
    assert info["name"] == "amber"
    # Unzipped, it is a bundle again: the checkpoint loads from the directory, as `nca record` reads it.
    ckpt = load_checkpoint(tmp_path / "amber")
    assert ckpt.model_config.channels == info["channels"] == 8


def test_checkpoint_download_loads(client, tmp_path, bundled_dir):
    r = client.get("/api/models/teal/checkpoint.pt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="teal.pt"'
    assert r.content == (bundled_dir / "teal" / "checkpoint.pt").read_bytes()
    (tmp_path / "teal.pt").write_bytes(r.content)
    ckpt = load_checkpoint(tmp_path / "teal.pt")
    assert ckpt.build_model("cpu").channels == 8


def test_standalone_page_is_what_export_writes(client, settings, tmp_path):
    """The same page `nca export --html` writes for this checkpoint, byte for byte."""
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt", textured_model(TARGETS["violet"]))
    html = tmp_path / "violet.html"
    export(ckpt, settings.models_dir, name="violet", html=html, thumbnail_steps=4)
    r = client.get("/api/models/violet/standalone.html")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="violet.html"'
    assert r.text == html.read_text(encoding="utf-8")
    page = r.text
    assert page.lower().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<title>violet" in page
    bundle = json.loads(re.search(r'<script type="application/json" id="nca-bundle">(.*?)</script>', page, re.S)[1])
    assert bundle["model"]["name"] == "violet" and set(bundle["sources"]) == set(bundle["model"]["shaders"])


def test_trained_model_downloads_are_named_after_its_title(client, settings):
    make_bundle(settings.models_dir, "violet")
    bundle = settings.models_dir / "violet"
    bundle.rename(settings.models_dir / HEX_ID)  # trained models live under their job id
    (settings.models_dir / HEX_ID / "studio.json").write_text(json.dumps({"title": "My violet (v2)!", "job_id": HEX_ID}))
    summary = next(m for m in client.get("/api/models").json() if m["id"] == HEX_ID)
    assert summary["downloads"] == {"bundle": f"/api/models/{HEX_ID}/bundle.zip",
                                    "checkpoint": f"/api/models/{HEX_ID}/checkpoint.pt",
                                    "standalone": f"/api/models/{HEX_ID}/standalone.html"}
    for url, name in zip(summary["downloads"].values(), ("My-violet-v2.zip", "My-violet-v2.pt", "My-violet-v2.html"),
                         strict=True):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-disposition"] == f'attachment; filename="{name}"'
    page = client.get(summary["downloads"]["standalone"]).text
    assert "<title>My violet (v2)!" in page
    # The zip's folder is the id (the bundle's name), whatever the title.
    names = zipfile.ZipFile(io.BytesIO(client.get(summary["downloads"]["bundle"]).content)).namelist()
    assert f"{HEX_ID}/model.json" in names and f"{HEX_ID}/studio.json" in names


@pytest.mark.parametrize("file", DOWNLOADS)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_unknown_ids_are_404(client, bad, file):
    r = client.get(f"/api/models/{bad}/{file}")
    assert r.status_code == 404, (bad, r.status_code)


def test_a_bundle_without_its_checkpoint_is_404_for_the_checkpoint_only(client, settings):
    make_bundle(settings.models_dir, "violet")
    (settings.models_dir / "violet" / "checkpoint.pt").unlink()
    assert client.get("/api/models/violet/checkpoint.pt").status_code == 404
    assert client.get("/api/models/violet/bundle.zip").status_code == 200
    assert client.get("/api/models/violet/standalone.html").status_code == 200


def test_downloads_and_video_are_in_the_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    for file in DOWNLOADS:
        assert set(paths[f"/api/models/{{model_id}}/{file}"]) == {"get"}
    assert set(paths["/api/models/{model_id}/video"]) == {"post"}
    body = paths["/api/models/{model_id}/video"]["post"]["requestBody"]
    assert body["content"]["application/json"]


# ---- videos ------------------------------------------------------------------------------------

def test_server_mp4_has_a_duration_the_grid_size_and_records_frames(client, bundled_dir, tmp_path):
    """A non-square grid, damage and rotation: the frames are exactly those nca.record.record makes
    (with the renderer's torch threads)."""
    from nca.record import record

    options = {"size": "64x48", "steps": 40, "steps_per_frame": 2, "fps": 20, "seed": 3,
               "damage": ["circle@20:r=0.2"], "angle": 90}
    r = client.post("/api/models/amber/video", json=options)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-disposition"] == 'attachment; filename="amber-64x48-40steps.mp4"'
    meta, frames = decode(r.content, tmp_path, "server.mp4")
    assert meta["size"] == (64, 48) and meta["fps"] == 20
    assert frames.shape == (21, 48, 64, 3)  # 40 / 2 + 1 frames, one pixel per cell
    assert meta["duration"] == pytest.approx(21 / 20, abs=0.06)  # the container knows how long it is
    count, secs = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "server.mp4"))
    assert count == 21 and secs == pytest.approx(21 / 20, abs=0.06)
    assert np.abs(frames[0].mean() - 127.5) < 3  # step 0 is the seed: grey
    assert np.abs(frames[-1].astype(float).mean(axis=(0, 1)) - 127.5).max() > 20  # grown
    threads = torch.get_num_threads()
    torch.set_num_threads(client.app.state.settings.worker_threads)
    try:
        own = record(bundled_dir / "amber", tmp_path / "own.mp4", size=(64, 48), steps=40, steps_per_frame=2,
                     fps=20, seed=3, damage=["circle@20:r=0.2"], angle=np.pi / 2, device="cpu", repair=False,
                     progress=False)
    finally:
        torch.set_num_threads(threads)
    assert own.frames == 21
    _, own_frames = decode((tmp_path / "own.mp4").read_bytes(), tmp_path, "own-copy.mp4")
    assert np.array_equal(frames, own_frames)


def test_server_webm(client, tmp_path):
    r = client.post("/api/models/teal/video", json={"format": "webm", "size": 32, "steps": 20, "steps_per_frame": 1})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/webm"
    assert r.headers["content-disposition"] == 'attachment; filename="teal-32x32-20steps.webm"'
    assert r.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML
    meta, frames = decode(r.content, tmp_path, "v.webm")
    assert meta["size"] == (32, 32) and frames.shape[0] == 21
    assert meta["duration"] == pytest.approx(21 / 30, abs=0.06)


@pytest.mark.parametrize(("options", "words"), [
    ({"steps": 0}, "steps must be a whole number >= 1"),
    ({"steps": 10, "steps_per_frame": 11}, "steps per frame must be a whole number from 1 to 10"),
    ({"fps": 500}, "fps must be a whole number from 1 to 120"),
    ({"seed": -1}, "seed must be a whole number"),
    ({"size": 4}, "out of range"),
    ({"size": "big"}, "bad size 'big'"),
    ({"size": 65}, "even width and height"),
    ({"damage": ["circel@3"]}, "unknown damage kind 'circel'"),
    ({"damage": ["circle@5:r=0"]}, "out of range"),
    ({"steps": 100, "damage": ["circle@100"]}, "outside the run"),
    ({"damage": ["reset@1"] * 40}, "at most 32 damage specs"),
    ({"angle": 1000}, "angle must be a number of degrees"),
    ({"size": 1024}, "over this server's limit of 512 cells a side"),
    ({"steps": 5000}, "at most 4000 steps per video here"),
    ({"size": 512, "steps": 2000}, "more than this server renders"),
    ({"format": "gif"}, "format: Input should be 'mp4' or 'webm'"),
    ({"steps": "many"}, "steps: Input should be a valid integer"),
    ({"step": 10}, "step: Extra inputs are not permitted"),
])
def test_bad_video_options_are_one_line_422(client, options, words):
    r = client.post("/api/models/amber/video", json=options)
    assert r.status_code == 422, r.text
    assert words in one_line(r)


def test_video_of_an_unknown_model_is_404_and_a_body_that_is_not_json_is_422(client):
    assert client.post("/api/models/nope/video", json={}).status_code == 404
    r = client.post("/api/models/amber/video", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and one_line(r)


def test_video_needs_the_same_origin_and_one_render_at_a_time(client):
    r = client.post("/api/models/amber/video", json={}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403  # a foreign page cannot make the server render
    assert client.get("/api/models/amber/bundle.zip", headers={"Origin": "http://evil.example"}).status_code == 200
    videos = client.app.state.videos
    videos.active = 1  # a render in flight
    try:
        r = client.post("/api/models/amber/video", json={"size": 16, "steps": 2})
        assert r.status_code == 429 and "already rendering" in one_line(r)
    finally:
        videos.active = 0


def test_a_render_past_the_time_limit_is_stopped(tmp_path, bundled_dir):
    settings = Settings(data_dir=tmp_path / "data", bundled_models_dir=bundled_dir, start_jobs=False,
                        video_timeout_seconds=0.2)
    with studio_client(settings) as c:
        r = c.post("/api/models/amber/video", json={"size": 64, "steps": 400})
        assert r.status_code == 504 and "longer than 0.2 s" in one_line(r)
        assert c.app.state.videos.active == 0
    assert not multiprocessing.active_children()
    assert not list((tmp_path / "data").glob(".video-*"))  # its temporary directory is gone


def test_a_client_that_goes_away_stops_its_render(tmp_path, bundled_dir):
    settings = Settings(data_dir=tmp_path, bundled_models_dir=bundled_dir)
    renderer = VideoRenderer(settings)
    job = VideoJob("mp4", 64, 64, 400, 2, 30, 0, (), 0.0)
    asked = []

    async def disconnected() -> bool:
        asked.append(1)
        return len(asked) > 3

    # In a thread of its own: the session's Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool, pytest.raises(ClientGone):
        pool.submit(asyncio.run, renderer.render(bundled_dir / "amber", job, disconnected)).result()
    assert renderer.active == 0
    assert not multiprocessing.active_children()
    assert not list(tmp_path.glob(".video-*"))
