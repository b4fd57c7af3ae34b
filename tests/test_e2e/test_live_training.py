"""Watching a model learn, end to end: a real uvicorn on 127.0.0.1 whose Settings export a live
bundle every few iterations, a real tiny training job in its worker process, and real headless
Chromium. The canvas swaps each new version of the weights in without a reload and keeps the
view; the job card names the phase and the time left; Cancel says "cancelling" at once.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TEXTURES
from tests.test_e2e.serve import running_server
from tests.test_web.helpers import make_bundle

REPO = Path(__file__).resolve().parents[2]
LIVE_EVERY = 10  # iterations between live bundles in this server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# `nca serve` with Settings it has no flags for: live bundles every LIVE_EVERY iterations, at once.
SERVER = """
import sys
from pathlib import Path
import uvicorn
from web.app import create_app
from web.settings import Settings
root, models, port, every = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings = Settings(data_dir=root / "data", bundled_models_dir=models, train_threads=1,
                    live_every_iterations=every, live_every_seconds=0.0, sse_poll_seconds=0.05)
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3)
"""


def live_server(root: Path, models: Path):
    return running_server(root, command=lambda port: [sys.executable, "-c", SERVER, str(root), str(models), str(port),
                                                      str(LIVE_EVERY)])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    make_bundle(root / "bundled", "amber")
    with live_server(root, root / "bundled") as (url, _proc):
        yield url


@pytest.fixture
def studio(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/#model=amber")
    page.wait_for_function("window.studio && window.studio.ready", timeout=30_000)
    page.select_option("#grid-size", "64")
    page.wait_for_function("window.studio.nca.width === 64")
    page.evaluate("window.studio.pause()")  # the canvas is drawn on demand: the two cores go to training
    # Every text the job's status badge shows, in order.
    page.evaluate("""() => {
        window.__statusTexts = [];
        const badge = document.getElementById('job-status');
        new MutationObserver(() => {
            const t = badge.textContent;
            if (window.__statusTexts[window.__statusTexts.length - 1] !== t) window.__statusTexts.push(t);
        }).observe(badge, {childList: true, characterData: true, subtree: true});
    }""")
    page.js_errors = errors
    yield page
    context.close()


def start_job(page, iterations: int, name: str) -> None:
    page.set_input_files("#file", str(TEXTURES / "pebbles.png"))
    page.fill("#job-name", name)
    page.select_option("#preset", "tiny")
    page.fill("#iterations", str(iterations))
    page.click("#btn-train")
    page.wait_for_function("(name) => window.studio.state.watchedJob && window.studio.state.watchedJob.name === name",
                           arg=name, timeout=30_000)


# The live version on the canvas, rendered the same way each time: from the seed, 48 steps, so two
# renders differ only where the weights do.
RENDER = """() => {
    const s = window.studio;
    s.reset('seed');
    s.nca.step(48);
    const shot = s.readCanvas();
    return {live: s.state.live, url: s.state.bundleUrl, shot};
}"""


def pixels(shot: dict) -> np.ndarray:
    rgba = np.frombuffer(base64.b64decode(shot["data"]), np.uint8).reshape(shot["height"], shot["width"], 4)
    return rgba[..., :3].astype(np.int16)


def test_the_canvas_runs_the_weights_as_they_learn(studio):
    # View settings the live swaps must keep.
    studio.fill("#zoom", "2")
    studio.dispatch_event("#zoom", "input")
    studio.check("#tiled")
    studio.fill("#fire-rate", "0.8")
    studio.dispatch_event("#fire-rate", "input")
    start_job(studio, 100, "Pebbles live")
    job_id = studio.evaluate("window.studio.state.watchedJob.id")
    assert studio.is_checked("#follow-live")

    renders = []
    while len(renders) < 3:
        last = renders[-1]["live"]["iteration"] if renders else 0
        studio.wait_for_function("(last) => { const l = window.studio.state.live; return l && l.iteration > last; }",
                                 arg=last, timeout=240_000)
        render = studio.evaluate(RENDER)
        if studio.evaluate("window.studio.state.watchedJob.status") != "running":
            break
        renders.append(render)
        again = studio.evaluate(RENDER)  # the same version renders the same pixels
        if again["live"] == render["live"]:
            assert np.array_equal(pixels(again["shot"]), pixels(render["shot"]))
    assert len(renders) >= 2, renders
    urls = [r["url"] for r in renders]
    assert len(set(urls)) == len(urls)  # a new bundle each time, loaded without a reload
    for r in renders:
        assert r["url"] == f"/api/jobs/{job_id}/live/{r['live']['iteration']}/" == r["live"]["url"]
        assert r["live"]["iteration"] % LIVE_EVERY == 0 and r["live"]["jobId"] == job_id
    # Two versions of the weights grow different pixels from the same seed and steps.
    assert np.abs(pixels(renders[0]["shot"]) - pixels(renders[-1]["shot"])).max() > 0
    # The view stayed as the user left it.
    state = studio.evaluate("window.studio.state")
    assert state["zoom"] == 2 and state["tiled"] is True and state["fireRate"] == pytest.approx(0.8)
    assert studio.evaluate("window.studio.nca.fireRate") == pytest.approx(0.8)
    assert state["modelId"] is None  # a live version is no gallery model
    # What the canvas shows is said: on the card, in the bar above the canvas, in the job list.
    shown = renders[-1]["live"]["iteration"]
    note = studio.inner_text("#job-live")
    assert note.startswith("on the canvas: iteration ") and note.endswith("of 100")
    assert "live weights of iteration" in studio.inner_text("#now-playing")
    assert "it " in studio.text_content(f"#jobs-list li[data-job-id='{job_id}'] .jiter")
    # The time left counts the phases after training.
    if studio.evaluate("window.studio.state.watchedJob.phase") == "training":
        assert "closing check" in studio.inner_text("#job-phases")

    studio.wait_for_function("window.studio.state.watchedJob.status === 'finished'", timeout=240_000)
    job = studio.evaluate("window.studio.state.watchedJob")
    # Then the final model replaces the live one, as a gallery model.
    studio.wait_for_function("(id) => window.studio.state.modelId === id && window.studio.state.live === null",
                             arg=job["model_id"], timeout=60_000)
    assert studio.evaluate("window.studio.state.bundleUrl") == f"/bundles/{job['model_id']}/"
    assert studio.evaluate("window.studio.state.zoom") == 2
    texts = studio.evaluate("window.__statusTexts")
    assert "training" in texts and texts.index("training") < len(texts) - 1, texts
    for phase in ("evaluating", "exporting"):
        assert phase in texts, texts
    assert texts.index("training") < texts.index("evaluating") < texts.index("exporting")
    final = "failed: learned nothing" if job["verdict"] == "failed" else "finished"
    assert texts[-1] == final == studio.inner_text("#job-status")
    assert studio.get_attribute("#job-card", "data-status") == "finished"
    lives = studio.evaluate("window.studio.jobEvents.filter(e => e.kind === 'live').map(e => e.data.iteration)")
    assert len(lives) >= 2 and shown in lives
    assert studio.inner_text("#job-eta") == "-"
    assert studio.js_errors == []


def test_cancel_says_cancelling_at_once(studio):
    start_job(studio, 2000, "Pebbles cancelled")
    studio.wait_for_function("window.studio.state.watchedJob.phase === 'training'", timeout=240_000)
    assert studio.inner_text("#job-status") == "training"
    studio.wait_for_function("document.getElementById('job-eta').textContent.startsWith('~')", timeout=30_000)
    studio.click("#btn-cancel")
    # Before the server has answered, and long before the worker has stopped.
    assert studio.inner_text("#job-status") == "cancelling\u2026"
    assert studio.inner_text("#job-eta") == "-"
    studio.wait_for_function("window.studio.state.watchedJob.status === 'cancelled'", timeout=120_000)
    texts = studio.evaluate("window.__statusTexts")
    assert texts[-2:] == ["cancelling\u2026", "cancelled"], texts
    assert studio.is_visible("#btn-resume")
    assert studio.js_errors == []
