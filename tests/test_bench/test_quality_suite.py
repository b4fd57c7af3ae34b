"""The quality suite writes its tables and contact sheet, and a second run redoes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def suite(tmp_path, *extra):
    cmd = [sys.executable, str(REPO / "bench" / "quality_suite.py"), "--preset", "tiny", "--images", "leopard,pebbles",
           "--steps", "8,16", "--threads", "1", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"),
           "--quiet", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_suite_tables_every_image_and_resumes_without_retraining(tmp_path):
    first = suite(tmp_path)
    assert "leopard-s0: failed" in first and "pebbles-s0: failed" in first  # 20 tiny iterations learn nothing
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["image"] for r in rows] == ["leopard.png", "pebbles.png"]
    assert set(rows[0]["steps"]) == {"8", "16"} and rows[0]["verdict"] == "failed"
    table = (tmp_path / "out" / "results.md").read_text()
    assert table.startswith("0 of 2 good") and "| leopard | 0 |" in table
    with Image.open(tmp_path / "out" / "contact_sheet.png") as sheet:
        assert sheet.height > 2 * 128 and sheet.width >= 3 * 128  # a strip per image: style + two rollouts
    stamp = (tmp_path / "runs" / "leopard-s0" / "checkpoint.pt").stat().st_mtime_ns
    (tmp_path / "out" / "rows" / "pebbles-s0.json").unlink()  # as if interrupted before pebbles was tabled
    second = suite(tmp_path)
    assert "leopard" not in second and "pebbles-s0: failed" in second
    assert (tmp_path / "runs" / "leopard-s0" / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_a_bad_override_fails_before_any_training(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "quality_suite.py"), "--set", "colour=1",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "unknown option" in proc.stderr and not (tmp_path / "o" / "rows").exists()
