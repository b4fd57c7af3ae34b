"""The studio's painted fields end to end: real uvicorn, real headless Chromium, real pointer events.

The field brushes (direction, slow, freeze, fast, graft, ungraft) change the field they should only
inside their disc (read back with nca.readField()); frozen cells stop changing while the others go on;
the direction and speed presets give field.js's values and follow the address (#field=vortex); the
gallery card says which models graft well (grafts.json); an old bundle (schema 1) disables the panel.
"""

from __future__ import annotations

import base64
import json
import math
import shutil

import numpy as np
import pytest

from exporter import export
from tests.conftest import write_checkpoint
from tests.test_e2e.serve import nca_serve
from tests.test_web.helpers import TARGETS, make_bundle, textured_model

pytestmark = pytest.mark.browser

GRID = 64
UNIFORM = np.array([1.0, 0.0, 1.0, 0.0], np.float32)  # cos, sin, speed, mix of an untouched cell


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """amber and teal (8 channels, marked good together in grafts.json), slate (12 channels) and violet
    re-labelled as a bundle of schema 1 (exported before fields existed)."""
    root = tmp_path_factory.mktemp("fields")
    bundled = root / "bundled"
    for name in ("amber", "teal", "violet"):
        make_bundle(bundled, name)
    info = json.loads((bundled / "violet" / "model.json").read_text())
    (bundled / "violet" / "model.json").write_text(json.dumps({**info, "schema_version": 1}))
    ckpt = write_checkpoint(root / ".ckpt-slate" / "checkpoint.pt", textured_model(TARGETS["amber"], channels=12),
                            meta={"iterations": 0, "final_loss": 0.0, "style_name": "slate.png"})
    export(ckpt, bundled, name="slate", thumbnail_steps=20)
    (bundled / "grafts.json").write_text(json.dumps({"pairs": [
        {"a": "amber", "b": "teal", "verdict": "good", "seam": 0.1},
        {"a": "amber", "b": "violet", "verdict": "poor"},
    ]}))
    with nca_serve(root, bundled) as url:
        yield url
    shutil.rmtree(root, ignore_errors=True)


def open_studio(browser, server, hash_="#model=amber&grid=64"):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(f"{server}/{hash_}")
    page.wait_for_function("window.studio && window.studio.ready && window.studio.nca.width === 64", timeout=60_000)
    page.evaluate("window.studio.pause()")
    return page


@pytest.fixture
def studio(browser, server):
    page = open_studio(browser, server)
    yield page
    page.context.close()


def read_floats(page, what: str, last: int) -> np.ndarray:
    """nca.readField() (last = 4) or nca.readState() (last = channels) as H x W x last."""
    b64 = page.evaluate(f"""() => {{ const f = window.studio.nca.{what}(); const b = new Uint8Array(f.buffer);
        let s = ''; for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
        return btoa(s); }}""")
    return np.frombuffer(base64.b64decode(b64), np.float32).reshape(GRID, GRID, last)


def field(page) -> np.ndarray:
    return read_floats(page, "readField", 4)


def distances(x: float, y: float) -> np.ndarray:
    """Each cell's distance (cells, wrapping) to grid point (x, y) in fractions: field.js's brush metric."""
    rows, cols = np.mgrid[0:GRID, 0:GRID]
    wrap = lambda d: np.minimum(np.abs(d) % GRID, GRID - np.abs(d) % GRID)  # noqa: E731
    return np.hypot(wrap(cols + 0.5 - x * GRID), wrap(rows + 0.5 - y * GRID))


def canvas_point(page, u: float, v: float) -> tuple[float, float]:
    b = page.locator("#canvas").bounding_box()
    return b["x"] + u * b["width"], b["y"] + v * b["height"]


def click(page, u: float, v: float) -> None:
    page.mouse.click(*canvas_point(page, u, v))


def set_brush(page, mode: str, radius: float) -> None:
    page.evaluate("([m, r]) => window.studio.setBrush({mode: m, radius: r})", [mode, radius])
    assert page.evaluate("window.studio.state.brush.mode") == mode


def expected_angles(kind: str, x: float = 0.5, y: float = 0.5) -> np.ndarray:
    """field.js directionAngle for every cell (angle 0)."""
    rows, cols = np.mgrid[0:GRID, 0:GRID]
    signed = lambda d: d - GRID * np.floor(d / GRID + 0.5)  # noqa: E731
    phi = np.arctan2(signed(rows + 0.5 - y * GRID), signed(cols + 0.5 - x * GRID))
    return {"uniform": 0 * phi, "radial": -phi, "vortex": -phi - math.pi / 2, "hyperbolic": phi}[kind]


def assert_direction(f: np.ndarray, angles: np.ndarray, where=None) -> None:
    where = np.ones(angles.shape, bool) if where is None else where
    assert np.allclose(f[..., 0][where], np.cos(angles)[where], atol=1e-5)
    assert np.allclose(f[..., 1][where], np.sin(angles)[where], atol=1e-5)


def graft_radios_enabled(page) -> list[bool]:
    return page.evaluate("""() => ['graft', 'ungraft'].map(
        (m) => !document.querySelector(`input[name="brush-mode"][value="${m}"]`).disabled)""")


def choose_graft(page, model_id: str) -> None:
    page.select_option("#graft-model", model_id)
    page.wait_for_function(f"""window.studio.state.graft && window.studio.state.graft.id === '{model_id}'
        && !window.studio.state.graftLoading && window.studio.nca.graftName === '{model_id}'""", timeout=30_000)


# ---- (a) the brushes -----------------------------------------------------------------------
def test_field_brushes_change_their_field_only_inside_the_disc(studio):
    page = studio
    r, R = 0.12, 0.12 * GRID
    assert np.array_equal(field(page), np.broadcast_to(UNIFORM, (GRID, GRID, 4)))
    # Direction: a click paints nothing; a stroke down the canvas paints its angle, -atan2(dy, dx) = -pi/2.
    set_brush(page, "direction", r)
    click(page, 0.5, 0.5)
    assert np.array_equal(field(page), np.broadcast_to(UNIFORM, (GRID, GRID, 4)))
    x0, y0 = canvas_point(page, 0.3, 0.3)
    _, y1 = canvas_point(page, 0.3, 0.6)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0, y1, steps=6)
    page.mouse.up()
    f = field(page)
    inside = (distances(0.3, 0.6) <= R - 1) | (distances(0.3, 0.45) <= R - 1)
    assert inside.sum() > 100
    assert np.allclose(f[inside][:, :2], [0.0, -1.0], atol=1e-6)
    along = np.min([distances(0.3, 0.3 + 0.3 * k / 60) for k in range(61)], axis=0)  # to the stroke's segment
    assert np.array_equal(f[along > R + 1], np.broadcast_to(UNIFORM, f[along > R + 1].shape))
    assert np.all(f[..., 2:] == [1.0, 0.0])  # speed and mix untouched
    # Speed brushes, keys included (, f .): a disc of that fire-rate factor, nothing else.
    for key, mode, value in ((",", "slow", 0.25), ("f", "freeze", 0.0), (".", "fast", 2.0)):
        page.evaluate("window.studio.resetField()")
        page.keyboard.press(key)
        assert page.evaluate("window.studio.state.brush.mode") == mode
        u, v = 0.7, 0.4
        click(page, u, v)
        f = field(page)
        d = distances(u, v)
        assert np.all(f[..., 2][d <= R - 1] == value), mode
        assert np.all(f[..., 2][d > R + 1] == 1.0), mode
        assert np.all(f[..., :2] == [1.0, 0.0]) and np.all(f[..., 3] == 0)
    # Scale brushes (= -): a soft disc whose core has that scale (the length of the angle's pair), the
    # angle kept; nothing outside.
    page.evaluate("window.studio.resetField()")
    page.select_option("#field-direction", "vortex")
    turned = field(page)
    for key, mode, value in (("=", "larger", 1.5), ("-", "smaller", 1 / 1.5)):
        page.keyboard.press(key)
        assert page.evaluate("window.studio.state.brush.mode") == mode
        u, v = 0.35, 0.65
        click(page, u, v)
        f = field(page)
        d = distances(u, v)
        k = np.hypot(f[..., 0], f[..., 1])
        assert np.allclose(k[d <= R / 2 - 1], value, atol=1e-5), mode  # the inner half: no soft edge
        assert np.array_equal(f[d > R + 1], turned[d > R + 1]), mode
        assert np.allclose(f[..., :2] / k[..., None], turned[..., :2], atol=1e-5)  # the angle stays
        assert np.all(f[..., 2:] == [1.0, 0.0])
    assert page.js_errors == []


def test_frozen_cells_stop_while_the_others_go_on(studio):
    page = studio
    page.evaluate("window.studio.nca.step(40)")  # something to freeze
    set_brush(page, "freeze", 0.2)
    click(page, 0.5, 0.5)
    before = read_floats(page, "readState", 8)
    page.evaluate("window.studio.nca.step(20); window.studio.draw()")
    after = read_floats(page, "readState", 8)
    d = distances(0.5, 0.5)
    inside, outside = d <= 0.2 * GRID - 1, d > 0.2 * GRID + 1
    assert np.array_equal(after[inside], before[inside])
    changed = np.any(after != before, axis=-1)
    assert changed[outside].mean() > 0.95
    assert page.js_errors == []


def test_graft_brushes_need_a_graft_and_paint_the_mix(studio):
    page = studio
    assert graft_radios_enabled(page) == [False, False]
    page.keyboard.press("g")  # no graft model yet: the brush stays
    assert page.evaluate("window.studio.state.brush.mode") == "erase"
    assert "graft model" in page.inner_text("#notice")
    options = page.eval_on_selector_all("#graft-model option", "os => os.map(o => [o.value, o.disabled])")
    assert options == [["", False], ["teal", False], ["violet", False], ["slate", True]]  # good partner first
    choose_graft(page, "teal")
    assert graft_radios_enabled(page) == [True, True]
    r, R = 0.25, 0.25 * GRID
    set_brush(page, "graft", r)
    click(page, 0.5, 0.5)
    mix = field(page)[..., 3]
    d = distances(0.5, 0.5)
    assert np.all(mix[d <= 0.5 * R - 1] == 1.0)                  # soft 0.5: full inside half the radius
    ring = mix[(d > 0.5 * R + 1) & (d < R - 1)]
    assert ring.size and np.all((ring > 0) & (ring < 1))        # a soft edge
    assert np.all(mix[d > R + 1] == 0)
    # The grafted disc grows teal's colours (red low) while amber's (red high) stay outside.
    page.evaluate("window.studio.nca.step(150)")
    red = read_floats(page, "readState", 8)[..., 0]
    assert red[d <= 0.5 * R - 2].mean() < -0.15 and red[d > R + 2].mean() > 0.15
    page.keyboard.press("u")
    click(page, 0.5, 0.5)
    mix = field(page)[..., 3]
    assert np.all(mix[d <= 0.5 * R - 1] == 0) and np.all(mix[d > R + 1] == 0) and mix.max() < 1
    # Reset field clears the mix; the graft model stays chosen.
    set_brush(page, "graft", r)
    click(page, 0.5, 0.5)
    page.click("#btn-field-reset")
    assert np.array_equal(field(page), np.broadcast_to(UNIFORM, (GRID, GRID, 4)))
    assert page.evaluate("window.studio.state.graft.id") == "teal"
    # Another model of the same channel count keeps the graft; one of another count drops it.
    page.click("#gallery .card[data-model-id='teal']")
    page.wait_for_function("window.studio.nca.model.name === 'teal' && window.studio.nca.graftName === 'teal'")
    page.click("#gallery .card[data-model-id='slate']")
    page.wait_for_function("window.studio.nca.model.name === 'slate' && window.studio.state.graft === null")
    assert "dropped" in page.inner_text("#notice")
    assert page.evaluate("window.studio.state.brush.mode") == "erase"  # the graft brush went with it
    assert graft_radios_enabled(page) == [False, False]
    assert page.input_value("#graft-model") == ""
    assert page.js_errors == []


# ---- (b) presets and links -----------------------------------------------------------------
def test_direction_and_speed_presets_centre_and_reset(studio):
    page = studio
    assert page.is_disabled("input[name='brush-mode'][value='centre']")  # a uniform field has no centre
    for kind in ("radial", "vortex", "hyperbolic"):
        page.select_option("#field-direction", kind)
        f = field(page)
        assert_direction(f, expected_angles(kind))
        assert np.abs(f[..., 0] - 1).max() > 1  # not the uniform field
        page.wait_for_function(f"location.hash.includes('field={kind}')")
    # At a known cell: right of the centre, a radial field keeps the x axis, a vortex turns it a quarter.
    page.select_option("#field-direction", "vortex")
    col, row = 56, 31  # (56.5, 31.5) vs the centre (32, 32): atan2(-0.5, 24.5)
    assert field(page)[row, col, :2] == pytest.approx([math.cos(-math.atan2(-0.5, 24.5) - math.pi / 2),
                                                       math.sin(-math.atan2(-0.5, 24.5) - math.pi / 2)], abs=1e-6)
    # Place the centre with a click: the preset follows, and so does the address.
    page.click("#field-panel .toggle")
    assert page.evaluate("window.studio.state.brush.mode") == "centre"
    click(page, 0.25, 0.75)
    s = page.evaluate("window.studio.state.field")
    assert s["fx"] == pytest.approx(0.25, abs=0.01) and s["fy"] == pytest.approx(0.75, abs=0.01)
    assert_direction(field(page), expected_angles("vortex", s["fx"], s["fy"]))
    page.wait_for_function("location.hash.includes('fx=0.25') && location.hash.includes('fy=0.75')")
    # The speed gradient, left to right.
    page.select_option("#field-speed", "gradient")
    cols = (np.arange(GRID) + 0.5) / GRID
    assert np.allclose(field(page)[..., 2], 0.25 + 1.75 * cols[None, :], atol=1e-6)
    page.wait_for_function("location.hash.includes('speedfield=gradient')")
    # The scale gradient: the texture smaller at the left, larger at the right; the direction stays.
    page.select_option("#field-scale", "gradient")
    f = field(page)
    assert np.allclose(np.hypot(f[..., 0], f[..., 1]), 0.67 + 0.83 * cols[None, :], atol=1e-5)
    assert_direction(f / np.hypot(f[..., 0], f[..., 1])[..., None], expected_angles("vortex", s["fx"], s["fy"]))
    page.wait_for_function("location.hash.includes('scalefield=gradient')")
    page.select_option("#field-scale", "uniform")
    # Presets outlast a grid change and a model change.
    page.select_option("#grid-size", "128")
    page.wait_for_function("window.studio.nca.width === 128")
    page.select_option("#grid-size", "64")
    page.wait_for_function("window.studio.nca.width === 64")
    page.click("#gallery .card[data-model-id='teal']")
    page.wait_for_function("window.studio.nca.model.name === 'teal'")
    f = field(page)
    assert_direction(f, expected_angles("vortex", s["fx"], s["fy"]))
    assert np.allclose(f[..., 2], 0.25 + 1.75 * cols[None, :], atol=1e-6)
    assert page.input_value("#field-direction") == "vortex" and page.input_value("#field-speed") == "gradient"
    # Reset field: uniform everything, and the address forgets the field.
    page.click("#btn-field-reset")
    assert np.array_equal(field(page), np.broadcast_to(UNIFORM, (GRID, GRID, 4)))
    assert page.evaluate("window.studio.state.brush.mode") == "erase"  # no centre to place
    page.wait_for_function("!location.hash.includes('field=') && location.hash.includes('model=teal')")
    assert page.js_errors == []


def test_a_link_names_the_field(browser, server):
    page = open_studio(browser, server,
                       "#model=amber&grid=64&field=vortex&fx=0.3&fy=0.6&speedfield=gradient&scalefield=gradient")
    try:
        f = field(page)
        cols = (np.arange(GRID) + 0.5) / GRID
        k = np.hypot(f[..., 0], f[..., 1])
        assert_direction(f / k[..., None], expected_angles("vortex", 0.3, 0.6))
        assert np.allclose(f[..., 2], 0.25 + 1.75 * cols[None, :], atol=1e-6)
        assert np.allclose(k, 0.67 + 0.83 * cols[None, :], atol=1e-5)
        assert page.input_value("#field-direction") == "vortex" and page.input_value("#field-scale") == "gradient"
        # A link pasted into the tab: its field; what it leaves out is at the default.
        page.evaluate("location.hash = '#model=amber&grid=64&field=radial'")
        page.wait_for_function("window.studio.state.field.direction === 'radial'")
        f = field(page)
        assert_direction(f, expected_angles("radial"))  # the scale back at 1, too
        assert np.all(f[..., 2] == 1.0)
        page.evaluate("location.hash = '#model=amber&grid=64&field=sideways&speed=4'")  # a bad value: uniform
        page.wait_for_function("window.studio.state.speed === '4'")
        assert page.evaluate("window.studio.state.field.direction") == "uniform"
        assert page.js_errors == []
    finally:
        page.context.close()


# ---- (c) the gallery card ------------------------------------------------------------------
def test_cards_say_which_models_graft_well(studio):
    page = studio
    card = lambda m: page.locator(f"#gallery .card[data-model-id='{m}']")  # noqa: E731
    assert card("amber").locator(".grafts").inner_text() == "grafts with teal"
    assert card("teal").locator(".grafts").inner_text() == "grafts with amber"
    assert card("slate").locator(".grafts").count() == 0 and card("violet").locator(".grafts").count() == 0
    assert page.js_errors == []


# ---- (d) an old bundle ---------------------------------------------------------------------
def test_an_old_bundle_disables_the_field_controls(studio):
    page = studio
    page.select_option("#field-direction", "radial")
    page.click("#gallery .card[data-model-id='violet']")
    page.wait_for_function("window.studio.nca.model.name === 'violet' && !window.studio.nca.supportsFields")
    assert page.is_visible("#field-hint")
    assert page.inner_text("#field-hint") == "re-export this model to paint fields"
    for selector in ("#field-direction", "#field-speed", "#field-scale", "#graft-model", "#btn-field-reset"):
        assert page.is_disabled(selector), selector
    for mode in ("direction", "slow", "freeze", "fast", "graft", "ungraft", "centre", "larger", "smaller"):
        assert page.is_disabled(f"input[name='brush-mode'][value='{mode}']"), mode
    page.keyboard.press("f")
    assert page.evaluate("window.studio.state.brush.mode") == "erase"
    assert "re-export" in page.inner_text("#notice")
    page.mouse.move(*canvas_point(page, 0.5, 0.5))  # the erase brush still works
    # Back to a current bundle: enabled again, the preset kept all along.
    page.click("#gallery .card[data-model-id='amber']")
    page.wait_for_function("window.studio.nca.model.name === 'amber' && window.studio.nca.supportsFields")
    assert page.is_hidden("#field-hint") and not page.is_disabled("#field-direction")
    assert_direction(field(page), expected_angles("radial"))
    assert page.js_errors == []
