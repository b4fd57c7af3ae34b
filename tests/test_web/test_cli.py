"""`nca serve` is wired into the nca command with safe defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from nca.cli import build_parser
from web import cli
from web.settings import BUNDLED_MODELS_DIR


def test_serve_defaults_bind_localhost():
    args = build_parser().parse_args(["serve"])
    assert args.func is cli.run
    assert (args.host, args.port, args.data, args.models) == ("127.0.0.1", 8000, Path("data"), None)


def test_serve_options():
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001", "--data", "/tmp/x",
                                      "--models", "/tmp/m", "--threads", "2"])
    assert (args.host, args.port, args.data, args.models, args.threads) == ("0.0.0.0", 9001, Path("/tmp/x"),
                                                                            Path("/tmp/m"), 2)


def test_bad_port_is_a_user_error(capsys):
    args = build_parser().parse_args(["serve", "--port", "70000"])
    assert cli.run(args) == 2
    assert "--port" in capsys.readouterr().err


def test_serve_runs_uvicorn_with_the_settings(monkeypatch, tmp_path):
    seen = {}

    def fake_run(app, **kwargs):
        seen.update(kwargs, app=app)

    monkeypatch.setattr("uvicorn.run", fake_run)
    args = build_parser().parse_args(["serve", "--data", str(tmp_path / "d"), "--port", "8123"])
    assert cli.run(args) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    settings = seen["app"].state.settings
    assert settings.data_dir == tmp_path / "d" and settings.bundled_models_dir == BUNDLED_MODELS_DIR


@pytest.mark.parametrize("argv", [["serve", "--port", "abc"], ["serve", "--log-level", "loud"]])
def test_bad_arguments_exit(argv):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
