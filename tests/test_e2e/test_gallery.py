"""Every bundled gallery model compiles and grows a texture in the real studio page."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.test_e2e.serve import REPO, nca_serve
from tests.test_e2e.test_studio import SEED_GREY, canvas

pytestmark = [pytest.mark.browser, pytest.mark.slow]
GALLERY = REPO / "web" / "models"


def bundled_names() -> list[str]:
    return sorted(p.parent.name for p in GALLERY.glob("*/model.json"))


def test_the_gallery_ships_only_good_models_with_their_own_renders():
    names = bundled_names()
    assert len(names) >= 4, names
    for name in names:
        info = json.loads((GALLERY / name / "model.json").read_text())
        assert info["quality"]["verdict"] == "good", name
        with Image.open(GALLERY / name / "thumbnail.png") as thumb:
            assert thumb.size == (128, 128), name  # the model's render, the style only as an inset
            assert np.asarray(thumb.convert("RGB"), float)[:80, :80].std(axis=(0, 1)).mean() > 8, name


@pytest.fixture(scope="module")
def gallery_server(tmp_path_factory):
    with nca_serve(tmp_path_factory.mktemp("gallery")) as url:
        yield url


def test_every_bundled_model_compiles_and_runs(browser, gallery_server):
    listed = httpx.get(f"{gallery_server}/api/models").json()
    ids = sorted(m["id"] for m in listed if m["bundled"])
    assert ids == bundled_names()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    means = {}
    try:
        page.goto(gallery_server)
        page.wait_for_function("window.studio && window.studio.ready", timeout=60_000)
        page.select_option("#grid-size", "64")
        page.wait_for_function("window.studio.nca.width === 64")
        for model_id in ids:
            # The page's own loading path (fetch bundle, compile GLSL), then 300 steps from the seed.
            page.evaluate("""async (id) => {
                const s = window.studio;
                await s.loadModel(id);
                s.pause();
                s.nca.reset('seed');
                s.nca.step(299);
                s.stepOnce();
            }""", model_id)
            assert page.evaluate("window.studio.nca.model.name") == model_id
            assert page.evaluate("window.studio.nca.stepCount") == 300
            img = canvas(page)
            # Grown: away from the seed grey in some channel or textured, and not one flat colour.
            assert img.std(axis=(0, 1)).mean() > 8, model_id
            assert np.abs(img - SEED_GREY).mean() > 10, model_id
            means[model_id] = img.mean(axis=(0, 1))
    finally:
        context.close()
    assert errors == []
    # Different models grow different textures.
    values = list(means.values())
    assert min(np.abs(a - b).max() for i, a in enumerate(values) for b in values[i + 1:]) > 1.0
