"""The studio at 1440x900 and on a 390x844 touch phone, and what the readout tells the user.

Real uvicorn and real headless Chromium, as in test_studio.py. The phone is Playwright's mobile
emulation (has_touch, is_mobile); fingers are CDP touch events (Input.dispatchTouchEvent), which
Chromium turns into pointer events exactly as it does for a real touch screen.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.test_e2e.serve import nca_serve
from tests.test_e2e.test_studio import SEED_GREY, canvas, grow, set_grid
from tests.test_web.helpers import TARGETS, make_bundle

pytestmark = pytest.mark.browser

TRAINED = 9  # trained models on top of the three bundled ones: a gallery longer than one screen
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Three bundled models and TRAINED deletable copies of one of them in the data dir."""
    root = tmp_path_factory.mktemp("layout")
    for name in TARGETS:
        make_bundle(root / "bundled", name)
    for i in range(1, TRAINED + 1):
        shutil.copytree(root / "bundled" / "amber", root / "data" / "models" / f"t{i:02d}")
    with nca_serve(root, root / "bundled") as url:
        yield url


def open_studio(browser, server, **context):
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(f"{server}/#model=amber")
    page.wait_for_function("window.studio && window.studio.ready", timeout=30_000)
    return page


@pytest.fixture
def desktop(browser, server):
    page = open_studio(browser, server, viewport={"width": 1440, "height": 900})
    yield page
    page.context.close()


@pytest.fixture
def phone(browser, server):
    page = open_studio(browser, server, **PHONE)
    yield page
    page.context.close()


def box(page, selector: str) -> dict:
    b = page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not rendered"
    return b


def in_view(page, selector: str) -> bool:
    """The element's whole box lies inside the viewport as the page is scrolled now."""
    b = box(page, selector)
    size = page.viewport_size
    return b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= size["width"] + 0.5 \
        and b["y"] + b["height"] <= size["height"] + 0.5


IN_VIEW_JS = """(sel) => { const b = document.querySelector(sel).getBoundingClientRect();
    return b.top >= 0 && b.left >= 0 && b.bottom <= innerHeight + 0.5 && b.right <= innerWidth + 0.5; }"""


# ---- 1440 x 900 ----------------------------------------------------------------------------
def test_desktop_shows_canvas_controls_and_train_button_without_scrolling(desktop):
    page = desktop
    assert page.locator("#gallery .card").count() == 3 + TRAINED
    assert page.evaluate("document.documentElement.scrollHeight") <= 900  # nothing to scroll to
    for selector in ("#canvas", "#btn-play", "#btn-step", "#btn-reset", "#btn-scenario", "#readout", "#btn-train",
                     "#grid-size", "#speed", ".segmented", "#radius", "#now-playing b"):
        assert in_view(page, selector), selector
    # The gallery keeps a bounded height and scrolls inside itself; its last card is reachable.
    gallery = box(page, ".gallery-panel")
    assert gallery["height"] < 600
    assert page.evaluate("(e => e.scrollHeight > e.clientHeight)(document.querySelector('.gallery-panel'))")
    last = page.locator("#gallery .card").last
    last.scroll_into_view_if_needed()
    assert in_view(page, "#gallery .card:last-child")
    assert in_view(page, "#canvas") and in_view(page, "#btn-train")
    assert page.js_errors == []


def test_narrower_desktop_keeps_the_canvas_in_view_while_the_form_scrolls(browser, server):
    page = open_studio(browser, server, viewport={"width": 1024, "height": 768})
    try:
        page.locator("#btn-train").scroll_into_view_if_needed()
        page.locator("#jobs-details").scroll_into_view_if_needed()
        assert page.evaluate("scrollY") > 0  # the page did scroll ...
        assert in_view(page, "#btn-train") and in_view(page, "#canvas")  # ... and the canvas stayed
    finally:
        page.context.close()


# ---- honest readout ------------------------------------------------------------------------
def test_grid_change_says_the_texture_restarts(desktop):
    page = desktop
    assert page.is_hidden("#notice")
    set_grid(page, 128)
    page.wait_for_selector("#notice", state="visible")
    text = page.inner_text("#notice")
    assert "128\u00d7128" in text and "restarts" in text
    assert page.evaluate("window.studio.nca.stepCount") < 1000


def test_a_slow_grid_is_flagged_and_a_smaller_one_offered(desktop):
    page = desktop
    assert page.evaluate("window.studio.state.grid") == 256
    # A renderer that manages ~3 steps/s: each step takes 300 ms.
    page.evaluate("""() => {
        const nca = window.studio.nca, step = nca.step.bind(nca);
        nca.step = (n = 1) => { const end = performance.now() + 300 * n; while (performance.now() < end) {} step(n); };
    }""")
    page.wait_for_selector("#slow-hint", state="visible", timeout=30_000)
    text = page.inner_text("#slow-hint-text")
    assert "steps/s" in text and "256\u00d7256" in text and "smaller grid" in text
    button = page.locator("#btn-smaller-grid")
    suggested = int(button.get_attribute("data-grid"))
    assert suggested in (64, 128)
    assert button.inner_text() == f"Use {suggested}\u00d7{suggested}"
    button.click()
    page.wait_for_function(f"window.studio.nca.width === {suggested}")
    assert page.input_value("#grid-size") == str(suggested)
    assert page.is_hidden("#slow-hint")
    assert "restarts" in page.inner_text("#notice")
    assert page.js_errors == []


def test_readout_shows_the_steps_per_frame_the_scenario_runs(desktop):
    page = desktop
    set_grid(page, 64)
    page.select_option("#speed", "8")
    page.wait_for_function("document.querySelector('#ro-spf').textContent === '8'")
    page.click("#btn-scenario")
    page.wait_for_function("window.studio.state.scenario !== null")
    page.wait_for_function("document.querySelector('#ro-spf').textContent === '2'", timeout=10_000)
    assert page.evaluate("window.studio.state.spfUsed") == 2


# ---- the phone -----------------------------------------------------------------------------
def touch(page, kind: str, *points: tuple[float, float]) -> None:
    """One CDP touch event: every finger that is down, ids by position in `points`."""
    cdp = page.context.new_cdp_session(page) if not hasattr(page, "_cdp") else page._cdp
    page._cdp = cdp
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i, "radiusX": 1, "radiusY": 1, "force": 1} for i, (x, y) in enumerate(points)]})


def canvas_centre(page) -> tuple[float, float, dict]:
    b = box(page, "#canvas")
    return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, b


def test_phone_shows_canvas_brush_mode_and_model_name_together(phone):
    page = phone
    assert in_view(page, "#canvas") and in_view(page, ".segmented") and in_view(page, "#btn-play")
    toolbar, brush = box(page, ".toolbar"), box(page, ".segmented")
    assert 0 < brush["y"] - (toolbar["y"] + toolbar["height"]) < 80  # right below the canvas's toolbar
    assert page.inner_text("#now-playing b") == "amber"
    name, bar = box(page, "#now-playing b"), box(page, "#now-playing")
    assert in_view(page, "#now-playing b") and name["x"] + name["width"] <= bar["x"] + bar["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    # Touch screens have no hover: a trained model's delete button is there without it.
    delete = page.locator("#gallery .card[data-model-id='t01'] .delete")
    assert delete.evaluate("e => getComputedStyle(e).opacity") == "1"
    assert delete.bounding_box()["height"] >= 24
    assert page.js_errors == []


def test_delete_button_is_hover_only_with_a_mouse(desktop):
    delete = desktop.locator("#gallery .card[data-model-id='t01'] .delete")
    assert delete.evaluate("e => getComputedStyle(e).opacity") == "0"


def test_tapping_a_card_brings_the_canvas_back(phone):
    page = phone
    card = page.locator("#gallery .card[data-model-id='teal']")
    card.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")  # the training form, far below the canvas
    card.scroll_into_view_if_needed()
    assert not page.evaluate(IN_VIEW_JS, "#canvas-wrap")
    card.tap()
    page.wait_for_function("window.studio.state.modelId === 'teal' && window.studio.ready")
    page.wait_for_function(IN_VIEW_JS, arg="#canvas-wrap", timeout=10_000)
    page.wait_for_function(IN_VIEW_JS, arg="#now-playing b", timeout=10_000)
    assert page.inner_text("#now-playing b") == "teal"
    assert page.js_errors == []


def test_pinch_zooms_about_its_centre_and_two_fingers_pan(phone):
    page = phone
    set_grid(page, 64)
    page.evaluate("window.studio.pause()")
    before = canvas(page)
    cx, cy, b = canvas_centre(page)
    # Pinch out about a point left of and above the centre: 40 px apart -> 120 px apart.
    px, py = cx - 60, cy - 50
    u, v = (px - b["x"]) / b["width"], (py - b["y"]) / b["height"]
    grid_point = lambda s: [(u - 0.5) / s["zoom"] + 0.5 + s["pan"][0], (v - 0.5) / s["zoom"] + 0.5 + s["pan"][1]]  # noqa: E731
    start = page.evaluate("window.studio.state")
    assert start["zoom"] == 1
    touch(page, "touchStart", (px - 20, py), (px + 20, py))
    for k in range(1, 9):
        d = 20 + 40 * k / 8
        touch(page, "touchMove", (px - d, py), (px + d, py))
    touch(page, "touchEnd")
    after = page.evaluate("window.studio.state")
    assert after["zoom"] == pytest.approx(3.0, rel=0.05)
    g0, g1 = grid_point(start), grid_point(after)
    drift = [(a - b + 0.5) % 1 - 0.5 for a, b in zip(g1, g0, strict=True)]  # the grid wraps around: compare mod 1
    assert np.abs(drift).max() < 0.01, (g0, g1)  # the grid point under the pinch centre stays put
    assert float(page.inner_text("#zoom-out").rstrip("\u00d7")) == pytest.approx(3.0, rel=0.05)
    # Two fingers moving together pan by their motion, at the same zoom.
    touch(page, "touchStart", (cx - 30, cy), (cx + 30, cy))
    for k in range(1, 5):
        touch(page, "touchMove", (cx - 30 + 15 * k, cy + 10 * k), (cx + 30 + 15 * k, cy + 10 * k))
    touch(page, "touchEnd")
    panned = page.evaluate("window.studio.state")
    assert panned["zoom"] == pytest.approx(after["zoom"], rel=1e-6)
    moved = [(panned["pan"][0] - after["pan"][0]) % 1, (panned["pan"][1] - after["pan"][1]) % 1]
    expect = [(-60 / b["width"] / after["zoom"]) % 1, (-40 / b["height"] / after["zoom"]) % 1]
    assert np.allclose(moved, expect, atol=0.005), (moved, expect)
    # No finger painted: back at the plain view, the canvas is what it was.
    page.evaluate("window.studio.resetView()")
    assert np.array_equal(canvas(page), before)
    assert page.js_errors == []


def test_one_finger_paints_and_a_second_finger_cancels_the_stroke(phone):
    page = phone
    set_grid(page, 64)
    grow(page)
    page.evaluate("window.studio.pause(); window.studio.setBrush({mode: 'erase', radius: 0.08})")
    before = canvas(page)
    assert np.abs(before.mean(axis=(0, 1)) - SEED_GREY).max() > 25  # grown, not seed grey
    cx, cy, b = canvas_centre(page)
    touch(page, "touchStart", (cx - 90, cy))
    for k in range(1, 7):
        touch(page, "touchMove", (cx - 90 + 30 * k, cy))
    touch(page, "touchEnd")
    after = canvas(page)
    h, w, _ = after.shape
    scale = w / b["width"]  # drawing-buffer pixels per CSS pixel
    r, cell = 0.08 * w, w / 64
    yy, xx = np.mgrid[0:h, 0:w]
    ys, x0, x1 = cy - b["y"], cx - 90 - b["x"], cx + 90 - b["x"]
    along = (np.abs(yy + 0.5 - ys * scale) < r - 2 * cell) & (xx + 0.5 > x0 * scale) & (xx + 0.5 < x1 * scale)
    far = np.abs(yy + 0.5 - ys * scale) > r + 2 * cell
    assert along.sum() > 1000
    assert np.abs(after[along] - SEED_GREY).max() <= 1.0  # the whole stroke is erased, no gaps
    assert np.array_equal(after[far], before[far])  # and nothing else
    # Two fingers landing together (a pinch): the first one's stroke stops unpainted, the second
    # paints nothing.
    touch(page, "touchStart", (cx - 60, cy - 100), (cx + 60, cy + 100))
    touch(page, "touchMove", (cx - 70, cy - 110), (cx + 70, cy + 110))
    touch(page, "touchEnd")
    zoom = page.evaluate("window.studio.state.zoom")
    page.evaluate("window.studio.resetView()")
    assert zoom > 1
    assert np.array_equal(canvas(page), after)
    # A tap is one disc.
    touch(page, "touchStart", (cx, cy - 120))
    touch(page, "touchEnd")
    tapped = canvas(page)
    disc = (yy + 0.5 - (cy - 120 - b["y"]) * scale) ** 2 + (xx + 0.5 - (cx - b["x"]) * scale) ** 2 < (r - 2 * cell) ** 2
    assert np.abs(tapped[disc] - SEED_GREY).max() <= 1.0
    assert page.js_errors == []


def test_pointercancel_ends_a_stroke(phone):
    """A cancelled finger is gone: the next finger paints (it is not taken for a second one)."""
    page = phone
    set_grid(page, 64)
    grow(page)
    page.evaluate("window.studio.pause()")
    cx, cy, _ = canvas_centre(page)
    touch(page, "touchStart", (cx, cy - 100))
    touch(page, "touchCancel")
    before = canvas(page)
    touch(page, "touchStart", (cx - 60, cy))
    touch(page, "touchMove", (cx + 60, cy))
    touch(page, "touchEnd")
    assert page.evaluate("window.studio.state.zoom") == 1
    after = canvas(page)
    row = after.shape[0] // 2
    assert np.abs(after[row - 3: row + 3] - SEED_GREY).max(axis=2).min() <= 1.0  # painted
    assert np.abs(after - before).max() > 20
    assert page.js_errors == []
