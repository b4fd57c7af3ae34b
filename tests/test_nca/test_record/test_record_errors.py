"""Bad input to `nca record`: one `error: ...` line on stderr, exit code 2, and nothing written."""

from __future__ import annotations

import importlib
import os

import pytest

from nca import files
from nca.record import main, record
from tests.conftest import TEXTURES, random_model

rec = importlib.import_module("nca.record.render")


@pytest.fixture
def run(make_checkpoint, tmp_path, capsys):
    """Run `nca record` with a valid model unless the args name one; returns (code, stderr, out dir listing)."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    model = str(make_checkpoint())

    def _run(*args: str, model_arg: str | None = None, out: str = "v.mp4"):
        argv = [model_arg or model, "--out", str(out_dir / out), "--size", "32", "--steps", "16",
                "--steps-per-frame", "4", "--device", "cpu", *args]
        code = main(argv)
        captured = capsys.readouterr()
        return code, captured.err, sorted(p.name for p in out_dir.iterdir())

    _run.out_dir = out_dir
    return _run


def assert_refused(result, message: str, left: list[str] | None = None) -> None:
    code, err, listing = result
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]
    assert listing == (left or []), "nothing may be written on error"


@pytest.mark.parametrize(("args", "message"), [
    (["--damage", "square@8"], "unknown damage kind 'square'"),
    (["--damage", "circle@8:q=1"], "bad parameter 'q=1'"),
    (["--damage", "circle@16"], "outside the run: use a step from 1 to 15"),
    (["--damage", "circle@0"], "outside the run"),
    (["--damage", "circle@8", "reset@900"], "reset@900 is at step 900, outside the run"),
    (["--size", "big"], "bad size 'big'"),
    (["--size", "4"], "out of range"),
    (["--steps", "0"], "steps must be a whole number >= 1"),
    (["--steps-per-frame", "17"], "steps per frame must be a whole number from 1 to 16"),
    (["--scale", "0"], "scale must be"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--field", "spiral"], "unknown --field 'spiral'; choose one of uniform, radial, vortex, hyperbolic"),
    (["--field", "vortex:z=1"], "bad parameter 'z=1' for vortex"),
    (["--field", "vortex:x=2"], "x=2 in 'vortex:x=2' is out of range (0..1)"),
    (["--speed-field", "gradient:lo=-1"], "lo=-1 in 'gradient:lo=-1' is out of range"),
    (["--paint", "graft@8:r=0.3"], "graft strokes need a second model: pass --graft MODEL"),
    (["--paint", "smear@8"], "unknown paint kind 'smear'"),
    (["--paint", "speed@99:factor=0"], "paint speed@99:factor=0 is at step 99, outside the run"),
    (["--paint", "speed@8:factor=x"], "bad number 'x' for factor"),
])
def test_bad_options(run, args, message):
    assert_refused(run(*args), message)


@pytest.mark.parametrize("out", ["v.mp4", "v.webm"])
def test_odd_size_that_yuv420p_refuses(run, out):
    assert_refused(run("--size", "33x32", out=out), "needs an even width and height, got 33x32")


def test_odd_size_is_fine_for_gif_and_even_after_scaling(run):
    assert run("--size", "33x32", out="v.gif")[0] == 0
    assert run("--size", "33x31", "--scale", "2", out="v.mp4")[0] == 0


def test_gif_fps_browsers_cannot_play(run):
    assert_refused(run("--fps", "60", out="v.gif"), "use --fps 50 or less")


def test_unknown_extension(run):
    assert_refused(run(out="v.avi"), "cannot tell the format from 'v.avi'")


def test_unwritable_outputs(run, tmp_path):
    assert_refused(run(out="missing/v.mp4"), "directory")
    (run.out_dir / "file.txt").write_text("x")
    assert_refused(run(out="file.txt/v.mp4"), "does not exist", left=["file.txt"])
    (run.out_dir / "full").mkdir()
    (run.out_dir / "full" / "keep.png").write_text("x")
    assert_refused(run(out="full"), "it exists and is not an empty directory", left=["file.txt", "full"])
    assert_refused(run("--format", "mp4", out="full"), "it is a directory", left=["file.txt", "full"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory(run):
    run.out_dir.chmod(0o555)
    try:
        assert_refused(run(), "cannot write")
    finally:
        run.out_dir.chmod(0o755)


def test_empty_frames_directory_is_reused(run):
    (run.out_dir / "frames").mkdir()
    assert run(out="frames")[0] == 0
    assert len(list((run.out_dir / "frames").iterdir())) == 5


def test_model_that_is_not_one(run, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    assert_refused(run(model_arg=str(garbage)), "is not a readable NCA checkpoint")
    assert_refused(run(model_arg=str(TEXTURES / "leopard.png")), "is not a readable NCA checkpoint")
    assert_refused(run(model_arg=str(tmp_path / "nope")), "no such file or directory")
    (tmp_path / "empty_run").mkdir()
    assert_refused(run(model_arg=str(tmp_path / "empty_run")), "has no checkpoint.pt")
    assert_refused(run("--grid", str(garbage)), "is not a readable NCA checkpoint")


@pytest.mark.parametrize("out", ["v.mp4", "v.gif", "frames"])
def test_failure_mid_render_leaves_nothing(monkeypatch, tmp_path, out):
    calls = {"n": 0}
    real = rec.compose

    def failing(states, scale):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom")
        return real(states, scale)

    monkeypatch.setattr(rec, "compose", failing)
    with pytest.raises(RuntimeError, match="boom"):
        record(random_model(), tmp_path / out, size=32, steps=16, device="cpu")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_leaves_nothing_and_says_so(monkeypatch, make_checkpoint, tmp_path, capsys):
    def interrupted(states, scale):
        raise KeyboardInterrupt

    monkeypatch.setattr(rec, "compose", interrupted)
    (tmp_path / "out").mkdir()
    code = main([str(make_checkpoint()), "--out", str(tmp_path / "out" / "v.mp4"), "--size", "32", "--steps", "8"])
    assert code == 130
    assert capsys.readouterr().err.strip() == "error: interrupted; nothing written"
    assert list((tmp_path / "out").iterdir()) == []


def test_directory_refusing_the_temp_file(run, monkeypatch):
    # Root ignores permission bits, so make the temp-file creation itself fail as it would for a user.
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", denied)
    monkeypatch.setattr(files.tempfile, "mkdtemp", denied)
    assert_refused(run(), "cannot write")
    assert_refused(run(out="frames"), "Permission denied")


def test_wired_into_the_nca_cli(make_checkpoint, tmp_path, capsys):
    cli = pytest.importorskip("nca.cli")
    model = str(make_checkpoint())
    assert cli.main(["record", model, "--out", str(tmp_path / "v.gif"), "--size", "32", "--steps", "8"]) == 0
    assert cli.main(["record", model, "--out", str(tmp_path / "w.gif"), "--damage", "square@3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unknown damage kind 'square' in 'square@3'; choose one of circle, half, noise, reset"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "v.gif"]


def test_encoder_that_fails_to_start_leaves_nothing(run, monkeypatch):
    import imageio_ffmpeg

    def broken(*args, **kwargs):
        raise OSError(2, "No such file or directory: 'ffmpeg'")
        yield  # a generator, like the real write_frames

    monkeypatch.setattr(imageio_ffmpeg, "write_frames", broken)
    assert_refused(run(), "No such file or directory")


def test_graft_model_of_another_channel_count(run, make_checkpoint):
    other = str(make_checkpoint(8, 16, name="eight"))
    assert_refused(run("--graft", other, "--paint", "graft@8"), "grafting needs the same channel count")
