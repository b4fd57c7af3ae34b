"""`nca export` and `python -m exporter`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from exporter import cli as export_cli
from tests.conftest import REPO
from tests.test_exporter.helpers import small_checkpoint


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "exporter", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_python_m_exporter(tmp_path):
    ckpt = small_checkpoint(tmp_path / "run" / "checkpoint.pt", channels=4, hidden=4)
    ok = run_module(str(ckpt.parent), "--name", "cli", "--out", str(tmp_path / "m"),
                    "--html", str(tmp_path / "t.html"), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "m" / "cli" / "model.json").is_file() and (tmp_path / "t.html").is_file()
    (tmp_path / "junk.pt").write_bytes(b"junk")
    bad = run_module(str(tmp_path / "junk.pt"), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_cli_hook_for_nca_export(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="nca")
    sub = parser.add_subparsers(dest="command")
    export_cli.add_parser(sub)
    ckpt = small_checkpoint(tmp_path / "run" / "checkpoint.pt", channels=4, hidden=4)
    args = parser.parse_args(["export", str(ckpt), "--out", str(tmp_path / "m"), "--name", "a/b"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == "error: invalid bundle name 'a/b': use 1-64 letters, digits, '_' or '-', " \
        "starting with a letter or digit (the studio lists a model under this name)\n"
