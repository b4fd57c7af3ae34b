"""What a user installs: the wheel, not the checkout. Built, installed without -e into a fresh
venv, and every command run from another directory; the studio page and /docs load in Chromium
with every request that would leave the machine blocked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import REPO
from tests.test_e2e.serve import free_port

pytestmark = pytest.mark.slow



def run(cmd, cwd, timeout=600, **kw):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(REPO)], root)
    wheel = next((root / "dist").glob("nca_studio-*.whl"))
    run([sys.executable, "-m", "venv", str(root / "venv")], root)
    pip = [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    import torch

    run(pip + [f"torch=={torch.__version__}"], root, timeout=1200)  # the build this suite runs on: no download
    run(pip + [str(wheel)], root, timeout=1200)
    work = root / "work"
    work.mkdir()
    shutil.copy(REPO / "tests" / "data" / "pebbles.png", work / "style.png")
    return root / "venv" / "bin" / "nca", work


def test_the_wheel_carries_the_shaders_and_the_studio(installed):
    nca, work = installed
    site = subprocess.run([str(nca.parent / "python"), "-c", "import shaders, web, exporter; print(shaders.__file__)"],
                          cwd=work, capture_output=True, text=True, check=True).stdout
    assert "site-packages" in site and str(REPO) not in site


def test_every_command_runs_from_another_directory(installed):
    nca, work = installed
    run([nca, "train", "style.png", "--preset", "tiny", "--out", "run"], work)
    run([nca, "export", "run", "--out", "bundles", "--html", "page.html"], work)
    assert (work / "bundles" / "run" / "update.frag").is_file() and (work / "page.html").stat().st_size > 2000
    run([nca, "record", "bundles/run", "--out", "v.mp4", "--size", "32", "--steps", "16", "--no-repair"], work)
    assert (work / "v.mp4").read_bytes()[4:8] == b"ftyp"
    report = run([nca, "evaluate", "run", "--size", "32", "--steps", "8", "--samples", "1"], work).stdout
    assert "verdict:" in report
    run([nca, "export", "run", "--name", "run"], work)  # the studio's default models folder
    assert (work / "data" / "models" / "run" / "model.json").is_file()
    # The packaged starting weights travel in the wheel.
    run([nca, "train", "style.png", "--preset", "tiny", "--init", "rust", "--iterations", "2", "--out", "based"], work)
    run([nca, "export", "based", "--out", "bundles"], work)
    info = json.loads((work / "bundles" / "based" / "model.json").read_text())
    assert info["training"]["init_from"]["path"] == "rust"


def test_the_installed_studio_and_its_docs_work_offline(installed, browser):
    nca, work = installed
    port = free_port()
    log = (work / "serve.log").open("w")
    server = subprocess.Popen([nca, "serve", "--port", str(port)], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (work / "serve.log").read_text()
            time.sleep(0.3)
        models = httpx.get(url + "/api/models").json()
        assert {"leopard", "run"} <= {m["id"] for m in models}  # the bundled gallery and the export above
        outside: list[str] = []
        context = browser.new_context()
        page = context.new_page()

        def route(r):
            if r.request.url.startswith(url):
                return r.continue_()
            outside.append(r.request.url)
            return r.abort()

        try:
            page.route("**/*", route)
            page.goto(url + "/docs")
            page.wait_for_selector("#swagger-ui .opblock", timeout=60_000)  # the operations rendered
            assert page.get_by_text("/api/models", exact=True).count() > 0
            page.goto(url + "/")
            page.wait_for_function("window.studio && window.studio.ready", timeout=60_000)
        finally:
            context.close()
        assert outside == []
    finally:
        server.terminate()
        server.wait(30)
        log.close()
