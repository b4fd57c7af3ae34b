"""The standalone HTML export in real headless Chromium, opened from file:// with no network:
state kept across window resizes, strokes without gaps, keyboard shortcuts, screenshot, and
hiding the controls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exporter import export

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    from tests.conftest import write_checkpoint

    root = tmp_path_factory.mktemp("standalone")
    ckpt = write_checkpoint(root / "run" / "checkpoint.pt", channels=8, hidden=16)
    page = root / "texture.html"
    export(ckpt, root / "bundles", name="pebbles", html=page, thumbnail_steps=2)
    return page


@pytest.fixture
def app(browser, html, request):
    """The page at 1000x800 with every request recorded; `request.param` is the address's hash."""
    context = browser.new_context(viewport={"width": 1000, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.js_errors = []
    page.requests = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(html.as_uri() + getattr(request, "param", ""))
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
