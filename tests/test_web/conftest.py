"""Fixtures for the studio: a bundled gallery of hand-built models, an app on a temp data dir."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.test_web.helpers import make_bundle
from web.app import create_app
from web.settings import Settings


@pytest.fixture(scope="session")
def bundled_dir(tmp_path_factory) -> Path:
    """A read-only gallery of two models (what web/models/ holds in a release)."""
    root = tmp_path_factory.mktemp("gallery") / "models"
    for name in ("amber", "teal"):
        make_bundle(root, name)
    return root


@pytest.fixture
def settings(tmp_path, bundled_dir) -> Settings:
    return Settings(data_dir=tmp_path / "data", bundled_models_dir=bundled_dir, start_jobs=False,
                    sse_poll_seconds=0.05)


def studio_client(settings: Settings) -> TestClient:
    """A client of the app as the studio page on loopback talks to it (the Host the server allows)."""
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


@pytest.fixture
def client(settings):
    with studio_client(settings) as c:
        yield c


def png_bytes(size=(48, 48), color=(200, 120, 40), fmt="PNG") -> bytes:
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 4):  # a little structure, so it is a texture of sorts
        for y in range(0, size[1], 4):
            img.putpixel((x, y), (20, 40, 200))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()
