"""bench/loss_ceiling.py finds an image close to the style by the loss, shows a suite's rollout at the
verdict's step beside it, and does not redo a finished image."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from nca.sweep.trial import STRIP_PAD
from tests.conftest import REPO

pytestmark = pytest.mark.slow

COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0)]  # a fake suite strip: the style, then steps 500 and 2000


def fake_suite(path):
    """A suite's results directory with one pebbles trial whose step-2000 rollout is pure red."""
    (path / "rows").mkdir(parents=True)
    figures = {"style_ratio": 0.01, "balanced_ratio": 0.1, "scale_ratio": 1.0, "contrast": 1.0}
    rows = [{"name": "pebbles-s0", "image": "pebbles.png", "seed": 0, "verdict": "good",
             "steps": {"500": figures, "2000": figures}}]
    (path / "results.json").write_text(json.dumps(rows))
    strip = Image.new("RGB", (3 * 128 + 2 * STRIP_PAD, 128), (255, 255, 255))
    for i, colour in enumerate(COLOURS):
        strip.paste(Image.new("RGB", (128, 128), colour), (i * (128 + STRIP_PAD), 0))
    strip.save(path / "rows" / "pebbles-s0.png")


def ceiling(tmp_path, *extra, out="out"):
    cmd = [sys.executable, str(REPO / "bench" / "loss_ceiling.py"), "--images", "pebbles", "--iterations", "40",
           "--out", str(tmp_path / out), "--threads", "2", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_the_optimum_approaches_the_style_and_sits_beside_the_rollout(tmp_path):
    fake_suite(tmp_path / "suite")
    proc = ceiling(tmp_path, "--suite", str(tmp_path / "suite"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads((tmp_path / "out" / "rows" / "pebbles.json").read_text())
    assert row["optimum"]["style_ratio"] < 0.3  # 40 steps from a flat image (1.0) toward the style (0)
    assert row["suite"]["step"] == 2000 and row["suite"]["trial"] == "pebbles-s0"
    strip = np.asarray(Image.open(tmp_path / "out" / "rows" / "pebbles.png").convert("RGB"))
    assert strip.shape == (128, 3 * 128 + 2 * STRIP_PAD, 3)
    assert (strip[:, -128:] == COLOURS[2]).all()  # the suite's tile at step 2000, not at 500
    assert strip[:, 128 + STRIP_PAD: 2 * 128 + STRIP_PAD].std() > 0.05 * 255  # the optimum is not flat
    assert "| pebbles | gram (bars), lbfgs 40 it |" in (tmp_path / "out" / "results.md").read_text()
    assert Image.open(tmp_path / "out" / "contact_sheet.png").height > 128
    stamp = (tmp_path / "out" / "rows" / "pebbles.json").stat().st_mtime_ns
    again = ceiling(tmp_path)
    assert again.returncode == 0 and "pebbles:" not in again.stdout
    assert (tmp_path / "out" / "rows" / "pebbles.json").stat().st_mtime_ns == stamp


def test_l_bfgs_goes_further_than_adam_in_as_many_loss_evaluations(tmp_path):
    ratios = {}
    for optimizer in ("adam", "lbfgs"):
        proc = ceiling(tmp_path, "--optimizer", optimizer, out=optimizer)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = tmp_path / optimizer
        ratios[optimizer] = json.loads((out / "rows" / "pebbles.json").read_text())["optimum"]["style_ratio"]
        assert f"gram (bars), {optimizer} 40 it" in (out / "results.md").read_text()
    assert ratios["lbfgs"] < 0.5 * ratios["adam"], ratios


def test_an_unknown_image_is_one_line_and_writes_nothing(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "loss_ceiling.py"), "--images", "nosuch",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and proc.stderr.strip() == f"error: no such image in {REPO / 'gallery' / 'styles'}: nosuch"
    assert not (tmp_path / "out").exists()
