"""The exporter's three stages, the bundle on disk, the CLI and every bad input.

Regenerate the golden GLSL after an intended template change with
    NCA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_exporter -q
and review the diff of tests/test_exporter/golden/ like any other code change.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from exporter import ExportError, export
from exporter import cli as export_cli
from exporter.bundle import SCHEMA, SCHEMA_VERSION
from exporter.glsl import float_literal, mat4, vec4
from exporter.pack import pack
from exporter.render import PROGRAMS, RenderError, render_all, render_template, shader_context
from nca.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from nca.config import ModelConfig, TrainConfig
from nca.model import perception_kernels
from tests.conftest import REPO, random_model

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("NCA_UPDATE_GOLDEN") == "1"


def tiny_checkpoint(channels: int = 4, hidden: int = 6) -> Checkpoint:
    """Weights from a formula, not an RNG: the golden files must not depend on torch's RNG.
    Sevenths and seventeenths are not exact in binary, so they exercise exact printing."""
    cfg = ModelConfig(channels=channels, hidden=hidden)
    h, c4 = np.meshgrid(np.arange(hidden), np.arange(4 * channels), indexing="ij")
    w1 = ((h * 7 + c4 * 3) % 11 - 5) / 17.0
    b1 = (np.arange(hidden) % 5 - 2) / 7.0
    w2 = ((np.arange(channels)[:, None] * 5 + np.arange(hidden)[None, :] * 2) % 9 - 4) / 70.0
    w2[0, 0] = 0.0  # one zero weight, and -0.0 elsewhere would still print "0.0"
    state = {k: torch.tensor(v, dtype=torch.float32) for k, v in (("w1", w1), ("b1", b1), ("w2", w2))}
    return Checkpoint(cfg, TrainConfig(), state, {})


def write_checkpoint(path: Path, channels: int = 8, hidden: int = 16, seed: int = 0) -> Path:
    save_checkpoint(path, random_model(channels, hidden, seed), TrainConfig(),
                    {"style_sha256": "ab" * 32, "iterations": 7, "final_loss": 1.5})
    return path


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# ---- stage 2: literals ---------------------------------------------------------------

def test_float_literals_are_exact_float32():
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(20000) * 10.0 ** rng.integers(-30, 30, 20000)).astype(np.float32)
    for v in values:
        text = float_literal(v)
        assert np.float32(float(text)) == v, text
        assert re.fullmatch(r"-?\d+\.\d+(e[+-]\d+)?", text), text  # valid GLSL float syntax
    assert float_literal(1) == "1.0" and float_literal(-0.0) == "0.0" and float_literal(1e-5) == "1.0e-05"
    assert float_literal(np.float32(0.1)) == "0.1"  # shortest for float32, not 0.10000000149011612
    with pytest.raises(ValueError):
        float_literal(float("nan"))


def test_mat4_is_column_major():
    block = np.arange(16, dtype=np.float32).reshape(4, 4)  # rows = outputs
    numbers = [float(x) for x in re.findall(r"-?\d+\.\d+", mat4(block))]
    columns = np.array(numbers).reshape(4, 4)  # GLSL fills column by column
    v = np.array([1.0, -2.0, 3.0, 0.5])
    assert np.allclose(columns.T @ v, block @ v)  # mat4 * v in GLSL == block @ v
    assert mat4(np.zeros((4, 4))) == "mat4(0.0)"
    assert vec4([1, 2, 3, 4]) == "vec4(1.0, 2.0, 3.0, 4.0)"


# ---- stage 1: packing ----------------------------------------------------------------

@pytest.mark.parametrize("channels,hidden", [(4, 1), (8, 6), (12, 96), (32, 5)])
def test_packed_blocks_compute_the_model(channels, hidden):
    """Evaluate the packed blocks the way the shader does and compare with nca.model."""
    model = random_model(channels, hidden)
    ckpt = Checkpoint(model.cfg, TrainConfig(), model.state_dict(), {})
    packed = pack(ckpt)
    g, j = packed.targets, packed.hidden_groups
    x = torch.randn(1, channels, 5, 6)
    perception = model.perceive(x, angle=0.4)[0, :, 2, 3].numpy()  # one cell, filter-major 4C
    p = perception.reshape(4, g, 4)  # [filter, target, component]
    hid = np.stack([packed.b1_blocks[jj] + sum(packed.w1_blocks[jj, f, k] @ p[f, k] for f in range(4) for k in range(g))
                    for jj in range(j)])
    hid = np.maximum(hid, 0.0)
    dx = np.concatenate([sum(packed.w2_blocks[k, jj] @ hid[jj] for jj in range(j)) for k in range(g)])
    expected = model.update(x, angle=0.4)[0, :, 2, 3].detach().numpy()
    assert np.allclose(dx, expected, atol=1e-5)
    assert packed.parameter_count == model.cfg.parameter_count


def test_sobel_orientation_matches_shader_comment():
    """The shader hard-codes the un-rotated Sobel pair as in perception_kernels(0)."""
    k = perception_kernels(0.0).numpy()
    assert k[1, 1, 2] > 0 and k[1, 1, 0] < 0  # sobel_x: +right
    assert k[2, 2, 1] > 0 and k[2, 0, 1] < 0  # sobel_y: +down (row y+1)


# ---- stage 3: rendering --------------------------------------------------------------

@pytest.mark.parametrize("program", list(PROGRAMS))
def test_golden_glsl(program):
    sources = render_all(pack(tiny_checkpoint()), "tiny")
    golden = GOLDEN / f"tiny_{PROGRAMS[program][0]}"
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(sources[program], encoding="utf-8")
    assert golden.exists(), f"missing {golden}: run with NCA_UPDATE_GOLDEN=1 to create it"
    assert sources[program] == golden.read_text(encoding="utf-8"), (
        f"{program} GLSL changed; if intended, regenerate with NCA_UPDATE_GOLDEN=1 and review the diff")


def test_every_template_starts_with_reads_writes_and_version():
    for _, template in PROGRAMS.values():
        lines = (REPO / "shaders" / template).read_text().splitlines()
        assert lines[0].startswith("{# Reads:") and lines[1].startswith("{# Writes:"), template
    for source in render_all(pack(tiny_checkpoint()), "tiny").values():
        lines = source.splitlines()
        assert lines[0] == "#version 300 es"  # WebGL refuses anything before it, even comments
        assert lines[1].startswith("// reads:") and lines[2].startswith("// writes:")
        assert "precision highp float;" in source


def test_missing_template_value_fails_loudly():
    context = shader_context(pack(tiny_checkpoint()), "tiny")
    del context["b1"]
    with pytest.raises(RenderError, match="b1"):
        render_template("update.frag.j2", context)


@pytest.mark.parametrize("channels", [4, 8, 12, 16, 20, 24, 28, 32])
def test_any_multiple_of_four_channels_renders(channels):
    ckpt = Checkpoint(ModelConfig(channels=channels, hidden=7), TrainConfig(),
                      random_model(channels, 7).state_dict(), {})
    update = render_all(pack(ckpt), "m")["update"]
    g = channels // 4
    assert update.count("out vec4 out_state") == g and f"out_state{g - 1} = " in update
    assert "vec4 h1 " in update and "vec4 h2 " not in update  # hidden 7 -> 2 padded vec4s


# ---- the bundle on disk --------------------------------------------------------------

def test_bundle_layout_and_model_json(tmp_path):
    ckpt = write_checkpoint(tmp_path / "my run" / "checkpoint.pt")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "my run" / "style.png")
    bundle = export(ckpt.parent, tmp_path / "models", thumbnail_steps=2)
    assert bundle == tmp_path / "models" / "my-run"  # default name: the run dir, made safe
    assert listing(bundle) == sorted(["model.json", "update.frag", "display.frag", "brush.frag", "seed.frag",
                                      "thumbnail.png", "checkpoint.pt"])
    info = json.loads((bundle / "model.json").read_text())
    assert info["schema"] == SCHEMA and info["schema_version"] == SCHEMA_VERSION
    assert (info["name"], info["channels"], info["hidden"], info["targets"]) == ("my-run", 8, 16, 2)
    assert info["fire_rate"] == 0.5 and info["filters"] == ["identity", "sobel_x", "sobel_y", "laplacian"]
    assert info["parameter_count"] == ModelConfig(8, 16).parameter_count
    assert info["state_format"]["preferred"] == "RGBA32F" and info["state_format"]["fallback"] == "RGBA16F"
    assert info["training"]["style_sha256"] == "ab" * 32
    assert info["training"]["iterations"] == 7 and info["training"]["final_loss"] == 1.5
    for file in info["shaders"].values():
        assert (bundle / file).is_file()
    with Image.open(bundle / "thumbnail.png") as thumb:
        assert thumb.size == (128, 128)  # the grown texture, the style as an inset bottom right
        assert thumb.getpixel((105, 105)) == (200, 10, 10)
        assert thumb.getpixel((40, 40)) != (200, 10, 10)
    again = load_checkpoint(bundle)  # a bundle is a valid checkpoint source for every other tool
    assert torch.equal(again.state_dict["w1"], load_checkpoint(ckpt).state_dict["w1"])
    assert listing(tmp_path / "models") == ["my-run"]  # no temporary directories left


def test_reexport_asks_for_force_then_replaces_bundle_and_writes_html(tmp_path):
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt")
    export(ckpt, tmp_path / "models", name="m", thumbnail_steps=2)
    (tmp_path / "models" / "m" / "stale.txt").write_text("old")
    html = tmp_path / "page.html"
    with pytest.raises(ExportError, match="already exists: pass --force"):
        export(ckpt, tmp_path / "models", name="m", html=html, thumbnail_steps=2)
    assert (tmp_path / "models" / "m" / "stale.txt").exists() and not html.exists()
    bundle = export(ckpt, tmp_path / "models", name="m", html=html, thumbnail_steps=2, force=True)
    assert not (bundle / "stale.txt").exists() and listing(tmp_path / "models") == ["m"]
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "import " not in page.split('type="module">', 1)[1][:200]
    assert "http://" not in page and "https://" not in page  # nothing to fetch from a network
    assert (bundle / "update.frag").read_text() in json.loads(
        page.split('id="nca-bundle">', 1)[1].split("</script>", 1)[0])["sources"]["update"]


# ---- bad input: one clear error each, nothing half-written ----------------------------

def foreign_torch_file(path: Path) -> None:
    torch.save({"state_dict": {"weight": torch.zeros(3)}}, path)


def newer_version(path: Path) -> None:
    write_checkpoint(path)
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, path)


def six_channels(path: Path) -> None:
    write_checkpoint(path)
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["channels"] = 6
    torch.save(payload, path)


def nan_weights(path: Path) -> None:
    model = random_model(4, 4)
    with torch.no_grad():
        model.w2[0, 0] = float("nan")
    save_checkpoint(path, model, TrainConfig(), {})


BAD_CHECKPOINTS = {
    "corrupt": (lambda p: p.write_bytes(b"\x80\x02not a torch file at all" * 10), "not a readable NCA checkpoint"),
    "empty": (lambda p: p.write_bytes(b""), "not a readable NCA checkpoint"),
    "foreign": (foreign_torch_file, "not an NCA Studio checkpoint"),
    "newer": (newer_version, "version 99"),
    "channels": (six_channels, "channels must be a multiple of 4"),
    "nan": (nan_weights, "NaN"),
}


@pytest.mark.parametrize("kind", list(BAD_CHECKPOINTS))
def test_bad_checkpoint_one_clear_error_nothing_written(tmp_path, kind):
    make, expected = BAD_CHECKPOINTS[kind]
    path = tmp_path / "run" / "checkpoint.pt"
    path.parent.mkdir()
    make(path)
    out = tmp_path / "models"
    out.mkdir()
    with pytest.raises(ExportError, match=re.escape(expected)) as info:
        export(path, out, name="x", html=tmp_path / "x.html")
    assert "\n" not in str(info.value)
    assert listing(out) == [] and not (tmp_path / "x.html").exists()


def test_missing_checkpoint(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        export(tmp_path / "nope", tmp_path / "models")
    with pytest.raises(ExportError, match="no checkpoint.pt"):
        export(tmp_path, tmp_path / "models")
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("name", ["../evil", "a/b", "a\\b", "", ".hidden", "..", "x" * 65, "sp ace", "/abs", "leo.v2"])
def test_name_with_path_characters_is_refused(tmp_path, name):
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(ExportError, match="invalid bundle name"):
        export(ckpt, tmp_path / "models", name=name)
    assert not (tmp_path / "models").exists() and not (tmp_path / "evil").exists()


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt")
    out = tmp_path / "models"
    export(ckpt, out, name="keep", thumbnail_steps=1)

    def broken_save(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ExportError, match="No space left"):
        export(ckpt, out, name="new", thumbnail_steps=1)
    with pytest.raises(ExportError):
        export(ckpt, out, name="keep", thumbnail_steps=1, force=True)
    assert listing(out) == ["keep"]  # the earlier bundle survives, no temporary leftovers
    assert "model.json" in listing(out / "keep")


# ---- CLI -----------------------------------------------------------------------------

def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "exporter", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_python_m_exporter(tmp_path):
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt", channels=4, hidden=4)
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
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoint.pt", channels=4, hidden=4)
    args = parser.parse_args(["export", str(ckpt), "--out", str(tmp_path / "m"), "--name", "a/b"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == "error: invalid bundle name 'a/b': use 1-64 letters, digits, '_' or '-', " \
        "starting with a letter or digit (the studio lists a model under this name)\n"
