"""The gallery's recipes are what `make gallery` trains: a typo there only shows hours into a rebuild."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest

from nca.checkpoint import load_checkpoint
from nca.config import preset
from tests.conftest import REPO


def _build_module():
    spec = importlib.util.spec_from_file_location("gallery_build", REPO / "gallery" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()
GALLERY, MODELS = BUILD.HERE, BUILD.MODELS
RECIPES = BUILD.load_recipes()


@pytest.mark.parametrize("recipe", RECIPES, ids=[r["name"] for r in RECIPES])
def test_recipe_builds_valid_configs_from_a_bundled_style(recipe):
    assert (GALLERY / "styles" / recipe["style"]).is_file()
    model_cfg, _ = preset(recipe["preset"], **BUILD.recipe_overrides(recipe))
    assert model_cfg.parameter_count > 0


@pytest.mark.parametrize("recipe", RECIPES, ids=[r["name"] for r in RECIPES])
def test_bundled_model_was_trained_with_its_recipe(recipe):
    """The checkpoint in web/models/<name> stores the configs it was trained with; they must be
    the ones the recipe gives today, or `make gallery` would not rebuild what we ship."""
    ckpt = load_checkpoint(MODELS / recipe["name"] / "checkpoint.pt")
    model_cfg, train_cfg = preset(recipe["preset"], **BUILD.recipe_overrides(recipe))
    assert ckpt.model_config == model_cfg
    # `threads` is how the build ran, not what it trained; every other field must match.
    assert dataclasses.replace(ckpt.train_config, threads=train_cfg.threads) == train_cfg


def test_every_bundled_model_has_a_recipe_and_figures():
    names = {r["name"] for r in RECIPES}
    bundled = {p.name for p in MODELS.iterdir() if (p / "model.json").is_file()}
    assert bundled == names
    quality = json.loads(BUILD.REPORT.read_text())
    assert set(quality) == names
