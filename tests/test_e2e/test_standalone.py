"""The standalone HTML export in real headless Chromium, opened from file:// with no network:
state kept across window resizes, strokes without gaps, keyboard shortcuts, screenshot, hiding
the controls, and the painted field: its brushes, its presets (from keys, controls and the address)
and the page of a model without field support."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from exporter import export
from exporter.html import standalone_html_for_bundle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    from tests.conftest import write_checkpoint

    root = tmp_path_factory.mktemp("standalone")
    ckpt = write_checkpoint(root / "run" / "checkpoint.pt", channels=8, hidden=16)
    page = root / "texture.html"
    export(ckpt, root / "bundles", name="pebbles", html=page, thumbnail_steps=2)
    return page


@pytest.fixture(scope="module")
def html_without_fields(html, tmp_path_factory) -> Path:
    """The page of the same model as a bundle of schema 1 (no graft pass): no painted fields."""
    bundle = tmp_path_factory.mktemp("old") / "pebbles"
    shutil.copytree(html.parent / "bundles" / "pebbles", bundle)
    info = json.loads((bundle / "model.json").read_text())
    info["schema_version"] = 1
    for program in ("graft", "network"):
        info["shaders"].pop(program, None)
    (bundle / "model.json").write_text(json.dumps(info))
    page = bundle.parent / "old.html"
    page.write_text(standalone_html_for_bundle(bundle), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def html_before_scale(html, tmp_path_factory) -> Path:
    """The page of the same model as a bundle of schema 2: fields, but no scale in its update pass."""
    bundle = tmp_path_factory.mktemp("v2") / "pebbles"
    shutil.copytree(html.parent / "bundles" / "pebbles", bundle)
    info = json.loads((bundle / "model.json").read_text())
    (bundle / "model.json").write_text(json.dumps({**info, "schema_version": 2}))
    page = bundle.parent / "v2.html"
    page.write_text(standalone_html_for_bundle(bundle), encoding="utf-8")
    return page


@pytest.fixture
def app(browser, html, request):
    """The page at 1000x800 with every request recorded; `request.param` is the address's hash,
    or (the page's fixture name, hash)."""
    param = getattr(request, "param", "")
    page_file, hash_ = (request.getfixturevalue(param[0]), param[1]) if isinstance(param, tuple) else (html, param)
    context = browser.new_context(viewport={"width": 1000, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.js_errors = []
    page.requests = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(page_file.as_uri() + hash_)
    page.wait_for_function("window.ncaApp && window.ncaApp.nca.stepCount > 0", timeout=30_000)
    yield page
    assert all(url.startswith(("file:", "blob:", "data:")) for url in page.requests), page.requests
    context.close()


def state_info(page) -> dict:
    return page.evaluate("(({width, height, stepCount}) => ({width, height, stepCount}))(window.ncaApp.nca)")


def test_resizing_the_window_keeps_the_state_and_the_step_count(app):
    page = app
    page.wait_for_function("window.ncaApp.nca.stepCount > 10")
    page.evaluate("window.ncaApp.setPaused(true)")
    before = state_info(page)
    page.evaluate("window.__old = {w: window.ncaApp.nca.width, h: window.ncaApp.nca.height, s: window.ncaApp.nca.readState()}")
    for size in ({"width": 640, "height": 900}, {"width": 1200, "height": 500}):  # a phone turned, twice
        page.set_viewport_size(size)
        cells = [min(384, -(-n // 3)) for n in (size["width"], size["height"])]  # 3 px a cell, at most 384
        page.wait_for_function(f"window.ncaApp.nca.width === {cells[0]}")
        now = state_info(page)
        assert now["height"] == cells[1]
        assert now["stepCount"] == before["stepCount"]
        # Where the old and the new grid overlap the cells are the old ones; beyond, the old grid repeats.
        mismatched = page.evaluate("""() => {
            const {w, h, s} = window.__old, nca = window.ncaApp.nca, now = nca.readState(), c = nca.channels;
            let bad = 0;
            for (let y = 0; y < nca.height; y++) for (let x = 0; x < nca.width; x++) for (let k = 0; k < c; k++) {
                if (now[(y * nca.width + x) * c + k] !== s[((y % h) * w + (x % w)) * c + k]) bad++;
            }
            return bad;
        }""")
        assert mismatched == 0
        page.evaluate("window.__old = {w: window.ncaApp.nca.width, h: window.ncaApp.nca.height, s: window.ncaApp.nca.readState()}")
    assert np.abs(np.array(page.evaluate("Array.from(window.ncaApp.nca.readState().slice(0, 4000))"))).max() > 0
    page.evaluate("window.ncaApp.setPaused(false)")
    page.wait_for_function(f"window.ncaApp.nca.stepCount > {before['stepCount'] + 5}")
    assert page.js_errors == []


def test_a_fast_drag_erases_one_continuous_band(app):
    page = app
    page.evaluate("window.ncaApp.setPaused(true); window.ncaApp.nca.reset('noise')")
    page.fill("#radius", "4")
    info = state_info(page)
    w, h = info["width"], info["height"]
    r_cells = 0.04 * min(w, h)
    y = 500
    page.mouse.move(100, y)
    page.mouse.down()
    page.mouse.move(900, y, steps=2)  # two pointer events 400 px apart: 6x the brush's diameter
    page.mouse.up()
    state = np.array(page.evaluate("Array.from(window.ncaApp.nca.readState())"), np.float32).reshape(h, w, -1)
    cell_y = y / 800 * h
    x0, x1 = 100 / 1000 * w, 900 / 1000 * w
    band = state[int(cell_y - r_cells / 2): int(cell_y + r_cells / 2) + 1, int(np.ceil(x0)): int(x1)]
    assert band.size > 0 and np.abs(band).max() == 0, "gaps in the stroke"
    assert (np.abs(state[int(cell_y + 3 * r_cells)]).max(axis=-1) > 0).all()  # beyond the band: untouched noise
    assert page.js_errors == []


def test_keyboard_shortcuts_and_screenshot(app):
    page = app
    assert page.evaluate("window.ncaApp.paused") is False
    page.keyboard.press("Space")
    assert page.evaluate("window.ncaApp.paused") is True
    count = page.evaluate("window.ncaApp.nca.stepCount")
    page.keyboard.press("s")
    assert page.evaluate("window.ncaApp.nca.stepCount") == count + 1
    page.keyboard.press("r")
    assert page.evaluate("window.ncaApp.nca.stepCount") == 0
    radius = int(page.input_value("#radius"))
    page.keyboard.press("]")
    assert int(page.input_value("#radius")) > radius
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert int(page.input_value("#radius")) < radius
    page.keyboard.press("n")
    assert page.input_value("#brush") == "noise"
    page.keyboard.press("e")
    assert page.input_value("#brush") == "erase"
    page.click("#pause")  # a focused button: space still toggles once, not twice
    assert page.evaluate("window.ncaApp.paused") is False
    page.keyboard.press("Space")
    assert page.evaluate("window.ncaApp.paused") is True
    with page.expect_download() as shot:
        page.keyboard.press("p")
    count = page.evaluate("window.ncaApp.nca.stepCount")
    assert shot.value.suggested_filename == f"pebbles-step{count}.png"
    assert Path(shot.value.path()).read_bytes()[:4] == b"\x89PNG"
    with page.expect_download() as shot:
        page.click("#shot")
    assert shot.value.suggested_filename.endswith(".png")
    # h hides the controls and brings them back; a small button is left to bring them back by touch.
    page.keyboard.press("h")
    assert page.is_hidden("#panel") and page.is_visible("#show")
    page.click("#show")
    assert page.is_visible("#panel") and page.is_hidden("#show")
    page.click("#hide")
    page.keyboard.press("h")
    assert page.is_visible("#panel")
    assert page.js_errors == []


@pytest.mark.parametrize("app", ["#controls=0"], indirect=True)
def test_controls_can_start_hidden_from_the_address(app):
    page = app
    assert page.is_hidden("#panel") and page.is_hidden("#show")
    assert page.evaluate("window.ncaApp.controlsShown") is False
    page.keyboard.press("h")
    assert page.is_visible("#panel")


def test_pointercancel_ends_the_stroke(app):
    page = app
    page.evaluate("window.ncaApp.setPaused(true); window.ncaApp.nca.reset('noise')")
    page.mouse.move(300, 300)
    page.mouse.down()
    page.evaluate("""() => document.getElementById('view').dispatchEvent(new PointerEvent('pointercancel',
        {pointerId: 1, isPrimary: true, bubbles: true}))""")
    page.evaluate("window.__s = window.ncaApp.nca.readState()")
    page.mouse.move(700, 300, steps=4)  # the cancelled pointer moves on: nothing more is painted
    changed = page.evaluate("(() => { const s = window.ncaApp.nca.readState(); let n = 0;"
                            " for (let i = 0; i < s.length; i++) if (s[i] !== window.__s[i]) n++; return n; })()")
    page.mouse.up()
    assert changed == 0
    assert page.js_errors == []


# ---- the painted field: [y][x][cos, sin, speed, mix] per cell, as nca.readField() gives it ----

def read_field(page) -> np.ndarray:
    info = state_info(page)
    flat = page.evaluate("Array.from(window.ncaApp.nca.readField())")
    return np.array(flat, np.float32).reshape(info["height"], info["width"], 4)


def read_state(page) -> np.ndarray:
    info = state_info(page)
    flat = page.evaluate("Array.from(window.ncaApp.nca.readState())")
    return np.array(flat, np.float32).reshape(info["height"], info["width"], -1)


def disc_distance(h: int, w: int, x: float, y: float) -> np.ndarray:
    """Each cell centre's wrapped distance (cells) from the point (x, y) in fractions: field.js's disc."""
    def ring(d, size):
        d = np.abs(d) % size
        return np.minimum(d, size - d)
    dy = ring(np.arange(h) + 0.5 - y * h, h)[:, None]
    dx = ring(np.arange(w) + 0.5 - x * w, w)[None, :]
    return np.sqrt(dy * dy + dx * dx)


def segment_distance(h: int, w: int, a: tuple[float, float], b: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each cell centre's distance (cells) from the segment a-b (fractions, away from the edges) and
    where along it (0 at a, 1 at b) its nearest point lies."""
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    ax, ay, bx, by = a[0] * w, a[1] * h, b[0] * w, b[1] * h
    t = np.clip(((xs - ax) * (bx - ax) + (ys - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)
    return np.hypot(xs - ax - t * (bx - ax), ys - ay - t * (by - ay)), t


def brush_cells(page) -> float:
    info = state_info(page)
    return int(page.input_value("#radius")) / 100 * min(info["width"], info["height"])


def test_speed_brushes_set_the_speed_only_inside_their_disc(app):
    page = app
    page.evaluate("window.ncaApp.setPaused(true)")
    h, w = state_info(page)["height"], state_info(page)["width"]
    r = brush_cells(page)
    for key, mode, value, (px, py) in (("w", "slow", 0.25, (250, 300)), ("f", "freeze", 0.0, (500, 420)),
                                       ("g", "fast", 2.0, (760, 560))):
        before = read_field(page)
        page.keyboard.press(key)
        assert page.input_value("#brush") == mode
        page.mouse.click(px, py)  # a click: one disc
        after = read_field(page)
        d = disc_distance(h, w, px / 1000, py / 800)
        inside, outside = d <= r - 1e-4, d > r + 1e-4
        assert inside.sum() > 100
        assert (after[..., 2][inside] == np.float32(value)).all(), mode
        assert (after[..., 2][outside] == before[..., 2][outside]).all(), mode
        assert (after[..., [0, 1, 3]] == before[..., [0, 1, 3]]).all(), mode  # direction and mix untouched
    assert page.js_errors == []


def test_the_direction_brush_paints_the_angle_of_the_stroke_inside_it(app):
    page = app
    page.evaluate("window.ncaApp.setPaused(true); window.ncaApp.nca.reset('noise')")
    h, w = state_info(page)["height"], state_info(page)["width"]
    r = brush_cells(page)
    state = read_state(page)
    page.keyboard.press("d")
    assert page.input_value("#brush") == "direction"
    page.mouse.click(500, 400)  # no motion, no direction: nothing painted
    assert (read_field(page) == np.array([1, 0, 1, 0], np.float32)).all()
    page.mouse.move(300, 300)
    page.mouse.down()
    page.mouse.move(500, 500, steps=4)  # down and to the right, in four moves
    page.mouse.up()
    field = read_field(page)
    angle = -math.atan2(200 / 800 * h, 200 / 1000 * w)  # the motion in cells; y down
    d, t = segment_distance(h, w, (0.3, 300 / 800), (0.5, 500 / 800))
    changed = (field[..., :2] != np.array([1, 0], np.float32)).any(axis=-1)
    assert changed.sum() > 100
    assert (d[changed] <= r + 1e-4).all(), "painted outside the stroke"
    core = (d <= r / 2) & (t >= 0.3)  # the first dab lies a fraction of the first move from the start
    assert core.sum() > 50 and changed[core].all(), "gaps in the stroke"
    np.testing.assert_allclose(field[changed][:, 0], math.cos(angle), atol=1e-6)
    np.testing.assert_allclose(field[changed][:, 1], math.sin(angle), atol=1e-6)
    assert (field[..., 2:] == np.array([1, 0], np.float32)).all()  # speed and mix untouched
    assert (read_state(page) == state).all()  # a field brush leaves the state alone
    assert page.js_errors == []


def test_freeze_stops_the_cells_inside_the_disc(app):
    page = app
    page.evaluate("window.ncaApp.setPaused(true); window.ncaApp.nca.reset('noise')")
    h, w = state_info(page)["height"], state_info(page)["width"]
    r = brush_cells(page)
    page.keyboard.press("f")
    page.mouse.click(500, 400)
    before = read_state(page)
    page.evaluate("window.ncaApp.nca.step(12)")
    after = read_state(page)
    d = disc_distance(h, w, 0.5, 0.5)
    moved = (after != before).any(axis=-1)
    assert not moved[d <= r - 1e-4].any(), "frozen cells changed"
    assert moved[d > r + 1e-4].mean() > 0.95
    assert page.js_errors == []


@pytest.mark.parametrize("app", ["#field=vortex&speedfield=gradient&controls=0"], indirect=True)
def test_the_address_picks_the_field_presets(app):
    from nca import fields

    page = app
    assert page.is_hidden("#panel")
    h, w = state_info(page)["height"], state_info(page)["width"]
    field = read_field(page)
    angles = fields.direction_angles("vortex", h, w).numpy()
    for row, col in ((h // 4, w // 3), (h - 1, 0), (h // 2 + 7, w // 2 - 11)):
        assert field[row, col, 0] == pytest.approx(math.cos(angles[row, col]), abs=1e-6)
        assert field[row, col, 1] == pytest.approx(math.sin(angles[row, col]), abs=1e-6)
    np.testing.assert_allclose(field[..., 0], np.cos(angles), atol=1e-6)
    np.testing.assert_allclose(field[..., 1], np.sin(angles), atol=1e-6)
    np.testing.assert_allclose(field[..., 2], fields.speed_factors("gradient", h, w).numpy(), atol=1e-6)
    assert page.input_value("#field") == "vortex" and page.input_value("#speedfield") == "gradient"
    assert page.js_errors == []


def test_field_presets_from_keys_and_controls_centre_on_the_last_click(app):
    from nca import fields

    page = app
    page.evaluate("window.ncaApp.setPaused(true)")
    h, w = state_info(page)["height"], state_info(page)["width"]

    def assert_direction(kind, x, y):
        field = read_field(page)
        angles = fields.direction_angles(kind, h, w, x, y).numpy()
        np.testing.assert_allclose(field[..., 0], np.cos(angles), atol=1e-6)
        np.testing.assert_allclose(field[..., 1], np.sin(angles), atol=1e-6)
        assert page.input_value("#field") == kind

    page.keyboard.press("v")  # no click yet: the centre
    assert_direction("radial", 0.5, 0.5)
    page.mouse.click(200, 600)
    assert page.evaluate("window.ncaApp.fieldCentre") == [0.2, 0.75]
    page.keyboard.press("v")
    assert_direction("vortex", 0.2, 0.75)
    page.keyboard.press("t")
    np.testing.assert_allclose(read_field(page)[..., 2], fields.speed_factors("gradient", h, w).numpy(), atol=1e-6)
    assert page.input_value("#speedfield") == "gradient"
    page.keyboard.press("t")
    assert (read_field(page)[..., 2] == 1).all()
    page.keyboard.press("x")  # reset the field: presets and strokes
    assert (read_field(page) == np.array([1, 0, 1, 0], np.float32)).all()
    assert page.input_value("#field") == "uniform"
    page.select_option("#field", "hyperbolic")
    assert_direction("hyperbolic", 0.2, 0.75)
    page.select_option("#speedfield", "gradient")
    assert page.evaluate("window.ncaApp.nca.readField()[2]") == pytest.approx(
        float(fields.speed_factors("gradient", h, w)[0, 0]), abs=1e-6)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("g")
    page.mouse.click(500, 400)  # a fast stroke on top
    page.click("#resetfield")
    assert (read_field(page) == np.array([1, 0, 1, 0], np.float32)).all()
    assert page.input_value("#field") == "uniform" and page.input_value("#speedfield") == "uniform"
    assert page.js_errors == []


@pytest.mark.parametrize("app", ["#scalefield=gradient"], indirect=True)
def test_scale_brushes_and_the_scale_gradient(app):
    from nca import fields

    page = app
    page.evaluate("window.ncaApp.setPaused(true)")
    h, w = state_info(page)["height"], state_info(page)["width"]
    graded = fields.scale_factors("gradient", h, w).numpy()
    field = read_field(page)
    np.testing.assert_allclose(field[..., 0], graded, atol=1e-6)  # the address's gradient, angle 0
    assert (field[..., 1] == 0).all() and page.input_value("#scalefield") == "gradient"
    page.keyboard.press("z")  # back to uniform
    assert (read_field(page) == [1, 0, 1, 0]).all()
    r = brush_cells(page)
    for key, mode, value, (px, py) in (("=", "larger", 1.5, (300, 300)), ("-", "smaller", 1 / 1.5, (700, 500))):
        before = read_field(page)
        page.keyboard.press(key)
        assert page.input_value("#brush") == mode
        page.mouse.click(px, py)
        after = read_field(page)
        d = disc_distance(h, w, px / 1000, py / 800)
        np.testing.assert_allclose(after[..., 0][d <= r / 2 - 1e-4], value, atol=1e-6)  # the core (soft edge)
        assert (after[d > r + 1e-4] == before[d > r + 1e-4]).all(), mode
        assert (after[..., 1:] == before[..., 1:]).all(), mode  # angle 0, speed and mix untouched
    page.keyboard.press("x")  # reset: the scale too
    assert (read_field(page) == [1, 0, 1, 0]).all()
    assert page.js_errors == []


@pytest.mark.parametrize("app", [("html_before_scale", "#scalefield=gradient")], indirect=True)
def test_a_model_exported_before_the_scale_keeps_its_other_fields(app):
    page = app
    assert page.evaluate("window.ncaApp.nca.supportsFields && !window.ncaApp.nca.supportsScale")
    assert page.is_hidden("#scalecontrol") and page.is_hidden("#scalekeys") and page.is_visible("#fieldcontrols")
    assert "larger" not in page.eval_on_selector_all("#brush option", "os => os.map(o => o.value)")
    assert page.evaluate("window.ncaApp.nca.readField().slice(0, 4).join()") == "1,0,1,0"  # the address's scale ignored
    page.keyboard.press("=")
    assert page.input_value("#brush") == "erase"
    page.keyboard.press("w")
    assert page.input_value("#brush") == "slow"
    assert page.js_errors == []


@pytest.mark.parametrize("app", [("html_without_fields", "#field=vortex")], indirect=True)
def test_a_model_without_fields_hides_the_field_controls(app):
    page = app
    assert page.evaluate("window.ncaApp.nca.supportsFields") is False
    assert page.is_hidden("#fieldcontrols") and page.is_hidden("#fieldkeys") and page.is_visible("#nofield")
    assert page.eval_on_selector_all("#brush option", "os => os.map(o => o.value)") == ["erase", "noise"]
    for key in "dwfgvtx":
        page.keyboard.press(key)
    assert page.input_value("#brush") == "erase"
    assert page.evaluate("window.ncaApp.nca.readField().slice(0, 4).join()") == "1,0,1,0"  # the address's field ignored
    page.mouse.move(300, 300)
    page.mouse.down()
    page.mouse.move(500, 500, steps=2)  # erase and noise still paint
    page.mouse.up()
    assert page.js_errors == []
