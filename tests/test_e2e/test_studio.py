"""The studio end to end: `nca serve` (real uvicorn on 127.0.0.1, in a subprocess) and real
headless Chromium. Pixels are read back from the canvas (window.studio.readCanvas()).

The gallery holds hand-built models (tests/test_web/helpers.py) whose textures have known
colour statistics, so growth, damage, repair and model switches can be checked with means.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import TEXTURES
from tests.test_e2e.serve import nca_serve
from tests.test_web.helpers import TARGETS, make_bundle

REPO = Path(__file__).resolve().parents[2]
SEED_GREY = 127.5  # the all-zero seed state shows as 0.5 grey: byte 127 or 128

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`nca serve` on a free port with a three-model bundled gallery and an empty data dir."""
    root = tmp_path_factory.mktemp("studio")
    for name in TARGETS:
        make_bundle(root / "bundled", name)
    with nca_serve(root, root / "bundled") as url:
        yield url


@pytest.fixture
def studio(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/#model=amber")
    page.wait_for_function("window.studio && window.studio.ready", timeout=30_000)
    page.js_errors = errors
    yield page
    context.close()


def canvas(page) -> np.ndarray:
    """The canvas as H x W x 3 uint8, row 0 at the top."""
    shot = page.evaluate("window.studio.readCanvas()")
    rgba = np.frombuffer(base64.b64decode(shot["data"]), np.uint8).reshape(shot["height"], shot["width"], 4)
    return rgba[..., :3].astype(np.float64)


def set_grid(page, n: int) -> None:
    page.select_option("#grid-size", str(n))
    page.wait_for_function(f"window.studio.nca.width === {n}")


def blur(page) -> None:
    """Keyboard shortcuts are ignored while a text field or select has the focus."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def wait_steps(page, n: int, timeout: float = 60_000) -> None:
    page.evaluate("(n) => { window.__stepsDone = false; window.studio.waitSteps(n).then(() => { window.__stepsDone = true; }); }", n)
    page.wait_for_function("window.__stepsDone === true", timeout=timeout)


def grow(page, steps: int = 160) -> None:
    """Play until the texture has grown from the seed (the test models settle in ~100 steps)."""
    page.evaluate("window.studio.play()")
    page.wait_for_function(f"window.studio.nca.stepCount >= {steps}", timeout=60_000)


def disc_mask(h: int, w: int, cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r


def test_gallery_lists_the_models_and_the_canvas_runs(studio):
    cards = studio.locator("#gallery .card")
    bundled = studio.locator("#gallery .card:has(.badge.bundled)")  # trained models (other tests) come after
    assert bundled.count() == 3
    assert [n.strip() for n in bundled.locator(".name").all_inner_texts()] == ["amber", "teal", "violet"]
    assert all(src.endswith("thumbnail.png") for src in
               studio.eval_on_selector_all("#gallery img", "imgs => imgs.map(i => i.src)"))
    assert "active" in cards.nth(0).get_attribute("class")
    set_grid(studio, 128)
    grow(studio)
    first = canvas(studio)
    # Not blank: far from the seed grey, and a texture (not one flat colour).
    assert np.abs(first.mean(axis=(0, 1)) - SEED_GREY).max() > 25
    assert first.std(axis=(0, 1)).mean() > 20
    wait_steps(studio, 10)
    second = canvas(studio)
    assert np.abs(second - first).mean() > 5  # the texture keeps moving
    readout = studio.inner_text("#readout")
    assert "128\u00d7128" in readout and "RGBA32F" in readout
    assert studio.evaluate("window.studio.state.stepsPerSec") > 0
    assert studio.js_errors == []


def test_brush_erases_a_disc_that_regrows(studio):
    set_grid(studio, 128)
    grow(studio)
    studio.evaluate("window.studio.pause()")
    studio.evaluate("window.studio.setBrush({mode: 'erase', radius: 0.12})")
    before = canvas(studio)
    box = studio.locator("#canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    studio.mouse.move(cx - 4, cy)
    studio.mouse.down()
    studio.mouse.move(cx + 4, cy, steps=4)
    studio.mouse.up()
    after = canvas(studio)
    h, w, _ = after.shape
    r = 0.12 * w  # brush radius: a fraction of the grid width; the grid fills the canvas
    cell = w / 128  # cells are erased whole: allow one cell (and the 8 px stroke) at the edge
    inside = disc_mask(h, w, w / 2, h / 2, r - 2 * cell)
    outside = ~disc_mask(h, w, w / 2, h / 2, r + 2 * cell + 4)
    # Inside the stroke every pixel is the seed colour; outside nothing changed.
    assert np.abs(after[inside] - SEED_GREY).max() <= 1.0
    assert np.abs(after[outside] - before[outside]).max() == 0
    # It regrows: the disc's colour statistics return to those of the rest.
    studio.evaluate("window.studio.play()")
    wait_steps(studio, 200)
    healed = canvas(studio)
    disc_mean, rest_mean = healed[inside].mean(axis=0), healed[outside].mean(axis=0)
    assert np.abs(disc_mean - SEED_GREY).max() > 25, disc_mean
    assert np.abs(disc_mean - rest_mean).max() < 15, (disc_mean, rest_mean)
    assert abs(healed[inside].std() - healed[outside].std()) < 15
    assert studio.js_errors == []


def test_switching_models_changes_the_texture(studio):
    set_grid(studio, 128)
    grow(studio)
    amber = canvas(studio).mean(axis=(0, 1))
    studio.click("#gallery .card[data-model-id='teal']")
    studio.wait_for_function("window.studio.state.modelId === 'teal' && window.studio.nca.model.name === 'teal'")
    assert "teal" in studio.inner_text("#now-playing")
    assert "active" in studio.get_attribute("#gallery .card[data-model-id='teal']", "class")
    assert studio.evaluate("location.hash").startswith("#model=teal")  # the link also carries the grid
    grow(studio)
    teal = canvas(studio).mean(axis=(0, 1))
    assert np.abs(teal - amber).max() > 40, (amber, teal)


def test_view_controls_tiled_zoom_hidden_and_keys(studio):
    set_grid(studio, 64)
    grow(studio, 120)
    studio.evaluate("window.studio.pause()")
    plain = canvas(studio)
    h, w, _ = plain.shape
    blur(studio)
    studio.keyboard.press("t")  # tiled 2x2: the four quadrants are the same picture
    tiled = canvas(studio)
    assert studio.evaluate("window.studio.state.tiled") is True
    assert np.array_equal(tiled[: h // 2, : w // 2], tiled[h // 2:, w // 2:])
    assert np.array_equal(tiled[: h // 2, : w // 2], tiled[: h // 2, w // 2:])
    studio.keyboard.press("0")
    studio.fill("#zoom", "4")
    studio.dispatch_event("#zoom", "input")
    zoomed = canvas(studio)
    cell = w / 64 * 4  # pixels per cell at zoom 4
    assert cell >= 8
    # Nearest-neighbour: a cell's pixels (away from its edges) are identical.
    y0 = x0 = int(cell * 3 + 2)
    block = zoomed[y0: y0 + int(cell) - 4, x0: x0 + int(cell) - 4]
    assert block.std(axis=(0, 1)).max() == 0
    studio.keyboard.press("0")
    studio.select_option("#view", "4")  # a hidden channel in false colour
    assert np.abs(canvas(studio) - plain).mean() > 5
    studio.select_option("#view", "rgb")
    assert np.array_equal(canvas(studio), plain)
    blur(studio)
    # Keyboard: space plays, s steps once (and pauses), [ and ] resize the brush.
    studio.keyboard.press("Space")
    assert studio.evaluate("window.studio.state.playing") is True
    studio.keyboard.press("s")
    assert studio.evaluate("window.studio.state.playing") is False
    count = studio.evaluate("window.studio.nca.stepCount")
    studio.keyboard.press("s")
    assert studio.evaluate("window.studio.nca.stepCount") == count + 1
    radius = studio.evaluate("window.studio.state.brush.radius")
    studio.keyboard.press("]")
    assert studio.evaluate("window.studio.state.brush.radius") > radius
    studio.keyboard.press("[")
    studio.keyboard.press("[")
    assert studio.evaluate("window.studio.state.brush.radius") < radius
    studio.keyboard.press("r")
    assert studio.evaluate("window.studio.nca.stepCount") == 0
    assert np.abs(canvas(studio) - SEED_GREY).max() <= 1.0
    # Fire rate and rotation reach the engine.
    studio.fill("#fire-rate", "0.8")
    studio.dispatch_event("#fire-rate", "input")
    studio.fill("#angle", "90")
    studio.dispatch_event("#angle", "input")
    assert studio.evaluate("window.studio.nca.fireRate") == pytest.approx(0.8)
    assert studio.evaluate("window.studio.nca.angle") == pytest.approx(np.pi / 2)
    with studio.expect_download() as shot:
        studio.click("#btn-screenshot")
    assert shot.value.suggested_filename.endswith(".png")
    assert Path(shot.value.path()).read_bytes()[:4] == b"\x89PNG"
    assert studio.js_errors == []


def test_recording_produces_a_webm(studio):
    set_grid(studio, 128)
    studio.select_option("#video-format", "webm")  # what is on screen, recorded in the browser
    studio.click("#btn-record")
    studio.wait_for_function("window.studio.state.recording === true")
    assert studio.is_visible("#rec-badge")
    studio.wait_for_timeout(1500)
    studio.click("#btn-record")
    studio.wait_for_function("window.studio.lastRecording !== null", timeout=15_000)
    rec = studio.evaluate("window.studio.lastRecording")
    assert rec["size"] > 1000 and rec["type"] == "video/webm"
    head = studio.evaluate("""async () => {
        const buf = await (await fetch(window.studio.lastRecording.url)).arrayBuffer();
        return Array.from(new Uint8Array(buf.slice(0, 4)));
    }""")
    assert head == [0x1A, 0x45, 0xDF, 0xA3]  # EBML magic: a Matroska/WebM file
    assert studio.is_visible("#download-link")
    with studio.expect_download() as dl:
        studio.click("#download-link")
    assert dl.value.suggested_filename.endswith(".webm")


@pytest.mark.slow
def test_growth_and_repair_scenario_records_a_video(studio):
    set_grid(studio, 64)
    studio.click("#btn-scenario")
    studio.wait_for_function("window.studio.state.scenario !== null")
    studio.wait_for_function("window.studio.state.scenario === null && window.studio.lastRecording !== null",
                             timeout=120_000)
    assert studio.evaluate("window.studio.nca.stepCount") >= 480
    assert studio.evaluate("window.studio.lastRecording.size") > 1000
    assert studio.js_errors == []


def test_the_start_a_user_picks_reaches_the_server(studio):
    """"Start from" is sent with the job; a packaged start for a preset of another shape is refused in the form."""
    assert studio.eval_on_selector_all("#init option", "os => os.map(o => o.value)") == [
        "", "random", "leopard", "pebbles", "rust", "gravel"]
    jobs = "fetch('/api/jobs').then(r => r.json()).then(js => js.length)"
    before = studio.evaluate(jobs)
    studio.set_input_files("#file", str(TEXTURES / "pebbles.png"))
    studio.select_option("#preset", "tiny")
    studio.select_option("#init", "pebbles")
    studio.click("#btn-train")
    studio.wait_for_selector("#train-error:not([hidden])", timeout=30_000)
    assert studio.inner_text("#train-error") == ("preset tiny trains another model shape than the packaged "
                                                 "start pebbles: start it from random")
    assert studio.evaluate(jobs) == before
    assert studio.js_errors == []


def test_a_job_that_stopped_early_says_so_and_fills_its_bar(studio):
    render = """async (job) => {
      const ui = await import('/static/js/ui.js');
      ui.renderJobCard(job);
      return [document.getElementById('job-status').textContent, document.getElementById('job-bar').style.width];
    }"""
    job = {"id": "held", "name": "Held", "status": "finished", "iteration": 100, "iterations": 200, "verdict": "good",
           "start": 1}
    assert studio.evaluate(render, dict(job, stopped_early=True)) == [
        "finished \u00b7 stopped early: the texture held", "100%"]
    assert studio.evaluate(render, dict(job, stopped_early=False)) == ["finished", "50%"]  # as far as it trained
    assert studio.js_errors == []


@pytest.mark.slow
def test_upload_trains_streams_progress_and_runs_the_new_model(studio, server):
    studio.set_input_files("#file", str(TEXTURES / "pebbles.png"))
    assert studio.input_value("#job-name") == "pebbles"
    studio.fill("#job-name", "Pebbles (e2e)")
    studio.select_option("#preset", "tiny")
    studio.fill("#iterations", "4")
    t0 = time.monotonic()
    studio.click("#btn-train")
    studio.wait_for_function("document.querySelector('#job-card').dataset.status === 'running'", timeout=60_000)
    studio.wait_for_function("window.studio.state.watchedJob && window.studio.state.watchedJob.status === 'finished'",
                             timeout=240_000)
    job = studio.evaluate("window.studio.state.watchedJob")
    studio.wait_for_function("(id) => window.studio.state.modelId === id && window.studio.nca.model.name === id",
                             arg=job["model_id"], timeout=60_000)
    elapsed = time.monotonic() - t0
    print(f"upload -> new model running: {elapsed:.1f} s")
    kinds = studio.evaluate("window.studio.jobEvents.map(e => e.kind)")
    assert kinds.count("progress") >= 1 and "preview" in kinds
    progress = studio.evaluate("window.studio.jobEvents.filter(e => e.kind === 'progress').map(e => e.data)")
    assert progress[-1]["iteration"] == 4 and progress[-1]["loss"] > 0
    assert studio.inner_text("#job-iter") == "4"
    assert studio.get_attribute("#job-preview", "src").startswith(f"/api/jobs/{job['id']}/preview.png")
    card = studio.locator(f"#gallery .card[data-model-id='{job['model_id']}']")
    assert card.locator(".name").inner_text() == "Pebbles (e2e)"
    assert "active" in card.get_attribute("class")
    # Four iterations learn nothing: the job says so, in its card, the job list and the gallery.
    assert job["verdict"] == "failed"
    assert studio.inner_text("#job-status") == "failed: learned nothing"
    assert studio.locator(f"#jobs-list li[data-job-id='{job['id']}'] .status").text_content() == "failed"  # folded away
    assert card.locator(".verdict").inner_text() == "failed"
    before = studio.evaluate("window.studio.nca.stepCount")
    wait_steps(studio, 5)
    assert studio.evaluate("window.studio.nca.stepCount") > before
    assert canvas(studio).shape[0] > 0
    assert httpx.get(f"{server}/api/models/{job['model_id']}").json()["name"] == "Pebbles (e2e)"
    assert studio.js_errors == []


def test_missing_webgl2_shows_a_message(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_init_script("""
        const original = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
            return kind === 'webgl2' ? null : original.call(this, kind, ...rest);
        };""")
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#overlay.error", state="visible")
    text = page.inner_text("#overlay")
    assert "cannot run the studio" in text and "WebGL2" in text
    assert page.locator("#gallery .card").count() >= 3  # the rest of the page still works (+ models trained above)
    assert page.is_disabled("#btn-record")
    context.close()


def test_missing_float_targets_shows_a_message(browser, server):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_init_script("""
        const original = WebGL2RenderingContext.prototype.getExtension;
        WebGL2RenderingContext.prototype.getExtension = function (name) {
            return name.startsWith('EXT_color_buffer') ? null : original.call(this, name);
        };""")
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#overlay.error", state="visible")
    assert "float" in page.inner_text("#overlay")
    context.close()


CARD_PIXELS = """async (id) => {
    const img = document.querySelector(`#gallery .card[data-model-id="${id}"] img`);
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return {w: c.width, h: c.height, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data)};
}"""


def test_a_card_shows_the_models_own_render_and_its_verdict(browser, tmp_path):
    """The card is what the model grows (amber), with the style (green) only as a small inset,
    and a model that learned nothing says so."""
    from exporter.thumbnail import GRID, INSET, PANEL, grow
    from nca.checkpoint import load_checkpoint

    bundled = tmp_path / "bundled"
    make_bundle(bundled, "amber", style_rgb=(20, 200, 40), verdict="good")
    make_bundle(bundled, "teal", style_rgb=(20, 200, 40), verdict="failed")
    with nca_serve(tmp_path, bundled) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            page.goto(url)
            page.wait_for_function("window.studio && window.studio.ready", timeout=30_000)
            shot = page.evaluate(CARD_PIXELS, "amber")
            verdicts = page.eval_on_selector_all("#gallery .card .verdict", "els => els.map(e => e.textContent)")
        finally:
            context.close()
    card = np.array(shot["data"], np.uint8).reshape(shot["h"], shot["w"], 4)[..., :3].astype(float)
    assert card.shape[:2] == (PANEL, PANEL)
    grown = grow(load_checkpoint(bundled / "amber"), steps=120).astype(float)  # make_bundle's thumbnail steps
    render = np.repeat(np.repeat(grown, PANEL // GRID, 0), PANEL // GRID, 1)
    main = slice(0, PANEL - INSET - 6)
    assert np.abs(card[main, main] - render[main, main]).max() <= 2  # the model's pixels, as PyTorch grows them
    green = np.array([20, 200, 40])
    inset = card[-INSET:-4, -INSET:-4]
    assert np.abs(inset.mean(axis=(0, 1)) - np.array([55, 205, 70])).max() < 40  # green with white stripes
    assert np.abs(card[main, main] - green).sum(axis=2).min() > 60  # no style pixels outside the inset
    assert sorted(verdicts) == ["failed", "good"]
