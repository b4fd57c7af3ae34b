"""bench/orientation.py finds the direction of stripes and tells stripes from an isotropic speckle."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from nca.sweep.trial import STRIP_PAD
from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("orientation", REPO / "bench" / "orientation.py")
orientation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(orientation)


def stripes(angle_deg: float, size: int = 128, period: int = 8) -> np.ndarray:
    """Stripes whose gradient points at angle_deg (y down), periodic on the grid like a texture."""
    y, x = np.mgrid[0:size, 0:size]
    kx, ky = np.round(size / period * np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))]))
    v = 0.5 + 0.5 * np.sin(2 * np.pi * (kx * x + ky * y) / size)
    return np.repeat(v[..., None], 3, axis=-1)


def test_stripes_give_their_direction_and_a_speckle_none():
    angle, coherence = orientation.orientation(stripes(45))
    assert abs(angle - 45) < 1 and coherence > 0.95
    angle, coherence = orientation.orientation(stripes(-45))
    assert abs(angle + 45) < 1 and coherence > 0.95
    speckle = np.random.default_rng(0).random((128, 128, 3))
    assert orientation.orientation(speckle)[1] < 0.05


def test_it_reads_a_suites_strips(tmp_path):
    rows = tmp_path / "rows"
    rows.mkdir()
    tiles = [stripes(45), stripes(-45), stripes(0)]
    strip = np.concatenate([np.pad(t, ((0, 0), (0, STRIP_PAD), (0, 0)), constant_values=1) for t in tiles],
                           axis=1)[:, :-STRIP_PAD]
    Image.fromarray((strip * 255).astype(np.uint8)).save(rows / "gold-s0.png")
    (rows / "gold-s0.json").write_text(json.dumps({"verdict": "poor", "steps": {"500": {}, "2000": {}}}))
    out = subprocess.run([sys.executable, str(REPO / "bench" / "orientation.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "gold-s0" in out.stdout and "style  +45.0° 1.00" in out.stdout and "500  -45.0° 1.00" in out.stdout
    assert "2000   +0.0° 1.00" in out.stdout or "2000   -0.0° 1.00" in out.stdout
    empty = subprocess.run([sys.executable, str(REPO / "bench" / "orientation.py"), str(tmp_path / "none")],
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode != 0 and empty.stderr.strip().startswith("error: no strips")
