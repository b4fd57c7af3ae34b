"""The bundle on disk: its layout, model.json, re-export and the standalone HTML."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from exporter import ExportError, export
from exporter.bundle import SCHEMA, SCHEMA_VERSION
from nca.checkpoint import load_checkpoint
from nca.config import ModelConfig
from tests.test_exporter.helpers import listing, small_checkpoint


def test_bundle_layout_and_model_json(tmp_path):
    ckpt = small_checkpoint(tmp_path / "my run" / "checkpoint.pt")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "my run" / "style.png")
    bundle = export(ckpt.parent, tmp_path / "models", thumbnail_steps=2)
    assert bundle == tmp_path / "models" / "my-run"  # default name: the run dir, made safe
    assert listing(bundle) == sorted(["model.json", "update.frag", "display.frag", "brush.frag", "seed.frag", "graft.frag", "network.frag",
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
    ckpt = small_checkpoint(tmp_path / "run" / "checkpoint.pt")
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
