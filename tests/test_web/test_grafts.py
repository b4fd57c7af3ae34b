"""/api/models' `grafts_with`: the models marked good to graft with each one in the models directory's
grafts.json, of the same channel count. No file: empty lists; a malformed file: ignored, never a 500."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from tests.test_web.conftest import studio_client
from web.settings import Settings


@pytest.fixture
def gallery(tmp_path, bundled_dir):
    """The session's amber and teal (8 channels) plus copies: violet (8) and slate (12 channels)."""
    root = tmp_path / "models"
    for name in ("amber", "teal"):
        shutil.copytree(bundled_dir / name, root / name)
    for name, source, channels in (("violet", "amber", 8), ("slate", "teal", 12)):
        shutil.copytree(bundled_dir / source, root / name)
        info = json.loads((root / name / "model.json").read_text())
        (root / name / "model.json").write_text(json.dumps({**info, "name": name, "channels": channels}))
    return root


def listing(tmp_path, gallery) -> dict[str, list[str]]:
    settings = Settings(data_dir=tmp_path / "data", bundled_models_dir=gallery, start_jobs=False)
    with studio_client(settings) as client:
        r = client.get("/api/models")
        assert r.status_code == 200
        detail = client.get("/api/models/amber")
        assert detail.status_code == 200
        models = {m["id"]: m["grafts_with"] for m in r.json()}
        assert detail.json()["grafts_with"] == models["amber"]
        return models


def write_grafts(gallery, pairs) -> None:
    (gallery / "grafts.json").write_text(json.dumps({"pairs": pairs}))


def test_no_grafts_file_means_empty_lists(tmp_path, gallery):
    assert listing(tmp_path, gallery) == {"amber": [], "teal": [], "violet": [], "slate": []}


def test_good_pairs_of_the_same_channel_count_are_listed_both_ways(tmp_path, gallery):
    write_grafts(gallery, [
        {"a": "amber", "b": "teal", "verdict": "good", "seam": 0.12},
        {"a": "violet", "b": "amber", "verdict": "good"},
        {"a": "teal", "b": "violet", "verdict": "poor"},     # not good: not listed
        {"a": "amber", "b": "slate", "verdict": "good"},     # 8 vs 12 channels: cannot graft
        {"a": "amber", "b": "gone", "verdict": "good"},      # no such model
        {"a": "amber", "b": "amber", "verdict": "good"},     # itself
    ])
    assert listing(tmp_path, gallery) == {
        "amber": ["teal", "violet"],  # gallery order: bundled by name
        "teal": ["amber"],
        "violet": ["amber"],
        "slate": [],
    }


@pytest.mark.parametrize("text", [
    "{not json",
    "[1, 2]",
    '{"pairs": {"a": "amber"}}',
    '{"pairs": [{"a": "amber", "b": 3, "verdict": "good"}]}',
    '{"pairs": ["amber-teal"]}',
    "\udcff",
])
def test_a_malformed_file_is_ignored_with_a_warning(tmp_path, gallery, text, caplog):
    (gallery / "grafts.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING, logger="nca.studio.models"):
        assert listing(tmp_path, gallery) == {"amber": [], "teal": [], "violet": [], "slate": []}
    assert any("grafts.json" in r.getMessage() for r in caplog.records)


def test_the_file_is_read_again_when_it_changes(tmp_path, gallery):
    settings = Settings(data_dir=tmp_path / "data", bundled_models_dir=gallery, start_jobs=False)
    with studio_client(settings) as client:
        grafts = lambda: {m["id"]: m["grafts_with"] for m in client.get("/api/models").json()}  # noqa: E731
        assert grafts()["teal"] == []
        write_grafts(gallery, [{"a": "amber", "b": "teal", "verdict": "good"}])
        assert grafts()["teal"] == ["amber"]
        write_grafts(gallery, [{"a": "amber", "b": "teal", "verdict": "good"}, {"a": "teal", "b": "violet",
                                                                                "verdict": "good"}])
        assert grafts()["teal"] == ["amber", "violet"]
