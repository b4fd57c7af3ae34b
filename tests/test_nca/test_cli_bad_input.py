"""Every bad input to `nca train` ends in one line `error: ...` and exit code 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, TEXTURES, interruptible


def nca_subprocess(*args):
    """The real console entry point, in a fresh interpreter (slow: imports torch each time)."""
    return subprocess.run([sys.executable, "-m", "nca.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def assert_one_line_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


@pytest.fixture
def bad_files(tmp_path):
    files = {}
    files["missing"] = tmp_path / "nope.png"
    (tmp_path / "notes.txt").write_text("hello, I am not an image")
    files["text"] = tmp_path / "notes.txt"
    good = (TEXTURES / "pebbles.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 3])
    files["truncated"] = tmp_path / "truncated.png"
    (tmp_path / "empty.png").write_bytes(b"")
    files["empty"] = tmp_path / "empty.png"
    Image.new("RGB", (12, 40)).save(tmp_path / "small.png")
    files["small"] = tmp_path / "small.png"
    # A decompression bomb: a tiny file declaring 30000 x 30000 pixels.
    Image.new("1", (30000, 30000)).save(tmp_path / "bomb.png", optimize=True)
    files["bomb"] = tmp_path / "bomb.png"
    files["dir"] = tmp_path
    return files


@pytest.mark.parametrize("kind,fragment", [
    ("missing", "not found"),
    ("text", "not an image"),
    ("truncated", "truncated or corrupt"),
    ("empty", "empty file"),
    ("small", "at least 32 px"),
    ("bomb", "too large"),
    ("dir", "directory"),
])
def test_bad_style_images(nca, bad_files, kind, fragment, tmp_path):
    assert_one_line_error(nca("train", bad_files[kind], "--preset", "tiny", "--out", tmp_path / "out"), fragment)
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


@pytest.mark.parametrize("args,fragment", [
    (["--channels", "6"], "multiple of 4"),
    (["--channels", "0"], ">= 1"),
    (["--iterations", "-5"], ">= 1"),
    (["--iterations", "many"], "whole number"),
    (["--probe-every", "-1"], ">= 0"),
    (["--stop-below", "-1"], ">= 0"),
    (["--lr", "0"], "> 0"),
    (["--loss", "l2"], "invalid choice"),
    (["--gram-balance", "some"], "invalid choice"),
    (["--preset", "huge"], "invalid choice"),
    (["--steps", "9..3"], "MIN <= MAX"),
    (["--grid", "8"], "grid must be between"),
    (["--device", "tpu"], "unknown device"),
    (["--damage", "7"], "damage_samples"),
    (["--resume"], "--resume needs --out"),
])
def test_invalid_options(nca, args, fragment):
    assert_one_line_error(nca("train", TEXTURES / "pebbles.png", "--preset", "tiny", *args), fragment)


def _write_modes(tmp_path):
    rgb = np.asarray(Image.open(TEXTURES / "pebbles.png").convert("RGB"))
    Image.fromarray(rgb).convert("L").save(tmp_path / "gray.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "palette.png")
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])).save(tmp_path / "rgba.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16-bit grayscale
    Image.fromarray(rgb).save(tmp_path / "photo.jpg", quality=90)
    return ["gray.png", "palette.png", "rgba.png", "deep.png", "photo.jpg"]


def test_other_image_modes_are_converted(tmp_path):
    from nca.image import load_style

    for name in _write_modes(tmp_path):
        img, digest = load_style(tmp_path / name, 64)
        assert img.mode == "RGB" and max(img.size) == 64, name
        arr = np.asarray(img)
        assert arr.std() > 10, name  # the content survived the conversion
    deep, _ = load_style(tmp_path / "deep.png", 96)
    assert abs(np.asarray(deep)[..., 0].astype(int) - np.asarray(Image.open(TEXTURES / "pebbles.png"))[..., 0]).max() <= 1


@pytest.mark.slow
def test_train_cli_end_to_end_on_a_grayscale_16bit_image(tmp_path):
    name = _write_modes(tmp_path)[3]
    proc = nca_subprocess("train", tmp_path / name, "--preset", "tiny", "--iterations", "3", "--out", tmp_path / "run",
               "--no-compile")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "run")
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_console_script_reports_a_bad_image_in_one_line(tmp_path):
    (tmp_path / "x.png").write_text("not a png")
    assert_one_line_error(nca_subprocess("train", tmp_path / "x.png"), "not an image")


@pytest.fixture
def tiny_run(tmp_path):
    """A real two-iteration run directory (checkpoint.pt and resume.pt)."""
    from nca.train import train

    run = tmp_path / "run"
    train(TEXTURES / "pebbles.png", run, preset="tiny", iterations=2, quiet=True, compile_step=False)
    return run


def test_out_pointing_at_a_file(nca, tmp_path):
    (tmp_path / "taken").write_text("my notes")
    assert_one_line_error(nca("train", TEXTURES / "pebbles.png", "--preset", "tiny", "--out", tmp_path / "taken"),
                          "is a file, not a directory")
    assert (tmp_path / "taken").read_text() == "my notes"


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("damage", ["truncated", "malicious", "no_optimizer", "wrong_pool", "garbage"])
def test_resume_with_a_damaged_resume_file(nca, tiny_run, damage, capsys):
    import torch

    path = tiny_run / "resume.pt"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "malicious":
        torch.save({"optimizer": _Evil()}, path)
    elif damage == "no_optimizer":
        state = torch.load(path, weights_only=True)
        del state["optimizer"]
        torch.save(state, path)
    elif damage == "wrong_pool":
        state = torch.load(path, weights_only=True)
        state["pool"] = state["pool"][:, :4]
        torch.save(state, path)
    else:
        path.write_bytes(b"\x00" * 64)
    before = (tiny_run / "checkpoint.pt").read_bytes()
    proc = nca("train", TEXTURES / "pebbles.png", "--out", tiny_run, "--resume", "--iterations", "4")
    assert_one_line_error(proc, "cannot resume: resume.pt")
    assert "pwned" not in proc.stdout + proc.stderr
    assert (tiny_run / "checkpoint.pt").read_bytes() == before  # nothing was lost


def test_checkpoint_with_list_metadata(nca, tiny_run, tmp_path):
    import torch

    path = tiny_run / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    payload["meta"] = [["iterations", 2]]
    torch.save(payload, path)
    assert_one_line_error(nca("train", TEXTURES / "pebbles.png", "--out", tiny_run, "--resume", "--iterations", "4"),
                          "metadata is malformed")
    assert_one_line_error(nca("export", tiny_run, "--out", tmp_path / "bundles"), "metadata is malformed")


def test_wide_image_is_one_line(nca, tmp_path):
    Image.new("RGB", (600, 100), (90, 50, 20)).save(tmp_path / "wide.png")
    assert_one_line_error(nca("train", tmp_path / "wide.png", "--preset", "tiny", "--out", tmp_path / "o"), "too narrow")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.parametrize("delay", [1.0, 2.5])
def test_ctrl_c_in_the_first_seconds_exits_130(tmp_path, delay):
    import signal
    import time

    # The console script users run; `python -m nca.cli` sometimes dies of the signal (-2) after its message.
    console = Path(sys.executable).with_name("nca")
    proc = subprocess.Popen([str(console), "train", str(TEXTURES / "pebbles.png"), "--preset", "tiny",
                             "--iterations", "400", "--out", str(tmp_path / "run")], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=interruptible)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
