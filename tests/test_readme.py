"""The README's quick start, command by command, in a fresh directory laid out like a clone; and
its results table is the one gallery/quality.json gives."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import REPO
from tests.test_e2e.serve import free_port

README = (REPO / "README.md").read_text()
# The quick start trains the real preset (minutes); here its training line also gets these, so the
# suite stays short. Every other command runs exactly as written.
FAST_TRAINING = ["--preset", "tiny", "--iterations", "3"]


def quick_start() -> list[list[str]]:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.strip()]


def test_the_quick_start_is_all_nca_commands():
    commands = quick_start()
    assert commands and all(c[0] == ".venv/bin/nca" for c in commands)
    assert {c[1] for c in commands} == {"train", "evaluate", "export", "record", "serve"}


@pytest.mark.slow
def test_every_quick_start_command_runs_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(REPO / "gallery" / "styles", clone / "gallery" / "styles")
    shutil.copytree(REPO / "web" / "models" / "leopard", clone / "web" / "models" / "leopard")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for command in quick_start():
        args = [sys.executable, "-m", "nca.cli", *command[1:]]
        if command[1] == "train":
            args += FAST_TRAINING
        if command[1] == "serve":
            port = free_port()
            server = subprocess.Popen(args + ["--port", str(port)], cwd=clone, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        models = httpx.get(f"http://127.0.0.1:{port}/api/models", timeout=1).json()
                        break
                    except httpx.HTTPError:
                        assert server.poll() is None and time.monotonic() < deadline
                        time.sleep(0.3)
                assert "my-leopard" in {m["id"] for m in models}  # the export above, listed
            finally:
                server.terminate()
                server.wait(30)
            continue
        proc = subprocess.run(args, cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{shlex.join(command)}\n{proc.stderr[-3000:]}"
    for made in ("runs/leopard/checkpoint.pt", "data/models/my-leopard/model.json", "out/my-leopard/update.frag",
                 "leopard.html", "leopard.mp4"):
        assert (clone / made).is_file(), made


def test_the_results_table_is_generated_from_the_gallerys_figures():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gallery_build", REPO / "gallery" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    table = re.search(r"<!-- results -->\n(.*?)<!-- /results -->", README, re.S)
    assert table and table.group(1).strip() == build.results_table().strip()
