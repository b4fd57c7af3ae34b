"""The gallery's recipes are what `make gallery` trains: a typo there only shows hours into a rebuild."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest

from nca.checkpoint import load_checkpoint
from nca.config import preset
from nca.verdict import verdict
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


def _figures(ratios, scale=1.0):
    return {n: {"style_ratio": r, "scale_ratio": scale, "contrast": 1.0}
            for n, r in zip((500, 2000, 5000), ratios, strict=True)}


def test_the_bar_judges_the_figures_the_docs_report():
    assert verdict(_figures((0.0143, 0.0114, 0.0120)))["verdict"] == "good"  # bundled leopard: -16%
    assert verdict(_figures((0.0047, 0.0058, 0.0073)))["verdict"] == "good"  # +55%, but under 0.02 all along
    assert verdict(_figures((0.011, 0.015, 0.026)))["verdict"] == "drifts"  # +136% to 0.026
    assert verdict(_figures((0.04, 0.06, 0.04)))["verdict"] == "poor"  # over the ceiling at step 2000
    assert verdict(_figures((0.0068, 0.0077, 0.0069), scale=1.7))["verdict"] == "poor"  # pebbles 1.7x too small


@pytest.mark.parametrize("name", [r["name"] for r in RECIPES])
def test_every_bundled_model_is_good(name):
    """The gallery ships only models that pass the bar: their recorded figures, judged today, and
    the verdict their bundle shows on its card."""
    figures = json.loads(BUILD.REPORT.read_text())[name]
    assert verdict({int(n): v for n, v in figures["steps"].items()})["verdict"] == "good"
    info = json.loads((MODELS / name / "model.json").read_text())
    assert info["quality"]["verdict"] == "good"
