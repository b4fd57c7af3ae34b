"""export() on bad input: one clear error each, nothing half-written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from exporter import ExportError, export
from tests.conftest import random_model, write_checkpoint
from tests.test_exporter.helpers import listing, small_checkpoint


def foreign_torch_file(path: Path) -> None:
    torch.save({"state_dict": {"weight": torch.zeros(3)}}, path)


def newer_version(path: Path) -> None:
    small_checkpoint(path)
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, path)


def six_channels(path: Path) -> None:
    small_checkpoint(path)
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["channels"] = 6
    torch.save(payload, path)


def nan_weights(path: Path) -> None:
    model = random_model(4, 4)
    with torch.no_grad():
        model.w2[0, 0] = float("nan")
    write_checkpoint(path, model, meta={})


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
    ckpt = small_checkpoint(tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(ExportError, match="invalid bundle name"):
        export(ckpt, tmp_path / "models", name=name)
    assert not (tmp_path / "models").exists() and not (tmp_path / "evil").exists()


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    ckpt = small_checkpoint(tmp_path / "run" / "checkpoint.pt")
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
