"""Shared fixtures: a tiny trained-looking model, a real headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from nca.checkpoint import save_checkpoint
from nca.config import ModelConfig, TrainConfig
from nca.model import NCA
from web.headless import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
TEXTURES = REPO / "tests" / "data"


def random_model(channels: int = 12, hidden: int = 96, seed: int = 0, scale: float = 0.05) -> NCA:
    """An NCA with non-zero random weights (a zero w2 would make every test trivially pass)."""
    torch.manual_seed(seed)
    model = NCA(ModelConfig(channels=channels, hidden=hidden))
    with torch.no_grad():
        model.w2.normal_(0.0, scale)
    return model


@pytest.fixture
def make_checkpoint(tmp_path):
    """Write a checkpoint of a random model; returns its path."""

    def _make(channels: int = 12, hidden: int = 96, seed: int = 0, name: str = "ckpt") -> Path:
        model = random_model(channels, hidden, seed)
        path = tmp_path / name / "checkpoint.pt"
        save_checkpoint(path, model, TrainConfig(), {"style_sha256": "0" * 64, "iterations": 0, "final_loss": 0.0})
        return path

    return _make


@pytest.fixture(scope="session")
def browser():
    """A real headless Debian Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # tests may assert no uncaught errors
    yield pg
    context.close()
