"""Shared fixtures: a tiny trained-looking model, a real headless Chromium."""

from __future__ import annotations

import shutil
import signal
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


DEFAULT_META = {"style_sha256": "0" * 64, "iterations": 0, "final_loss": 0.0}


def write_checkpoint(path: Path, model: NCA | None = None, *, train_config: TrainConfig | None = None,
                     meta: dict | None = None, style: torch.Tensor | None = None, **random: float) -> Path:
    """The one way tests make a checkpoint: `model` (default: random_model(**random)) saved at `path`
    with a default TrainConfig and run metadata, optionally carrying a style image (H x W x 3 uint8)."""
    save_checkpoint(path, model if model is not None else random_model(**random), train_config or TrainConfig(),
                    DEFAULT_META if meta is None else meta, style_image=style)
    return path


@pytest.fixture
def make_checkpoint(tmp_path):
    """Write a checkpoint of a random model under tmp_path; returns its path."""

    def _make(channels: int = 12, hidden: int = 96, seed: int = 0, name: str = "ckpt") -> Path:
        return write_checkpoint(tmp_path / name / "checkpoint.pt", channels=channels, hidden=hidden, seed=seed)

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


def interruptible() -> None:
    """Popen's preexec_fn for a child a test Ctrl-Cs: a test run started in the background (`cmd &`)
    ignores SIGINT and its children would inherit that, so Python would install no handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
