"""Run `nca serve` (real uvicorn on 127.0.0.1) in a subprocess for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nca_serve(root: Path, models: Path | None = None, *extra: str):
    """Yield the base URL of a studio serving `models` (default: the bundled gallery) with data in root/data."""
    with running_server(root, models, *extra) as (url, _proc):
        yield url


@contextlib.contextmanager
def running_server(root: Path, models: Path | None = None, *extra: str, port: int | None = None,
                   headers: dict[str, str] | None = None, command=None):
    """`nca serve` in a subprocess: yields (base URL, Popen); extra CLI args pass through.
    `command(port)` gives another command line that serves on that port (Settings with no CLI flag)."""
    port = port or free_port()
    log = (root / "server.log").open("a")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "nca.cli", "serve", "--port", str(port), "--data", str(root / "data"),
           "--threads", "1", "--log-level", "warning", *extra]
    if models is not None:
        cmd += ["--models", str(models)]
    if command is not None:
        cmd = command(port)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=1, headers=headers).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {(root / 'server.log').read_text()}")
        time.sleep(0.2)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
