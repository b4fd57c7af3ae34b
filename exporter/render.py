"""Stage 3 of the export: PackedModel -> GLSL sources, by the jinja2 templates in shaders/.

The templates only loop and substitute; every literal is formatted by exporter.glsl and
every number comes from exporter.pack. StrictUndefined turns a missing template value into
an error at export time instead of a shader that fails to compile in somebody's browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

import shaders

from . import glsl
from .pack import PackedModel

# shaders/ sits at the top of the repository and installs as a package of its own, beside this one.
SHADERS_DIR = Path(shaders.__file__).resolve().parent

# Rendered file name -> template name. The engine (exporter/js/nca.js) looks these up in
# model.json["shaders"], so renaming a file here needs no change in JavaScript. `graft` and
# `network` make grafting possible: the engine splices another bundle's `network` (its MLP as one
# function) into this bundle's `graft` at GRAFT_MARKER, renaming NETWORK_FN to NETWORK_FN + "_b".
PROGRAMS = {
    "update": ("update.frag", "update.frag.j2"),
    "graft": ("graft.frag", "graft.frag.j2"),
    "network": ("network.frag", "network.frag.j2"),
    "display": ("display.frag", "display.frag.j2"),
    "brush": ("brush.frag", "brush.frag.j2"),
    "seed": ("seed.frag", "seed.frag.j2"),
}
NETWORK_FN = "nca_network"
GRAFT_MARKER = "// @graft-network"


class RenderError(ValueError):
    """A template could not be rendered (a missing value or a broken template)."""


def environment(shaders_dir: Path = SHADERS_DIR) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shaders_dir)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def shader_context(packed: PackedModel, name: str) -> dict[str, Any]:
    """Everything the templates substitute: sizes, and per output vec4 the list of
    (mat4 literal, input vec4 name) terms with all-zero blocks left out."""
    g, j = packed.targets, packed.hidden_groups
    inputs = [[f"{prefix}{k}" for k in range(g)] for prefix in ("s", "sx", "sy", "l")]  # filter-major
    w1_terms = [
        [(glsl.mat4(packed.w1_blocks[jj, f, k]), inputs[f][k])
         for f in range(4) for k in range(g) if not glsl.is_zero(packed.w1_blocks[jj, f, k])]
        for jj in range(j)
    ]
    w2_terms = [
        [(glsl.mat4(packed.w2_blocks[k, jj]), f"h{jj}")
         for jj in range(j) if not glsl.is_zero(packed.w2_blocks[k, jj])]
        for k in range(g)
    ]
    return {
        "name": name,
        "network_fn": NETWORK_FN,
        "graft_marker": GRAFT_MARKER,
        "channels": packed.channels,
        "hidden": packed.hidden,
        "G": g,
        "J": j,
        "b1": [glsl.vec4(packed.b1_blocks[jj]) for jj in range(j)],
        "w1_terms": w1_terms,
        "w2_terms": w2_terms,
    }


def render_template(template: str, context: dict[str, Any], env: jinja2.Environment | None = None) -> str:
    env = env or environment()
    try:
        return env.get_template(template).render(**context)
    except jinja2.UndefinedError as exc:
        raise RenderError(f"shader template {template} needs a value it was not given: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"shader template {template} is broken: {exc}") from None


def render_all(packed: PackedModel, name: str, env: jinja2.Environment | None = None) -> dict[str, str]:
    """Program name -> (file name, GLSL source) for every pass of the engine."""
    env = env or environment()
    context = shader_context(packed, name)
    return {program: render_template(template, context, env) for program, (_, template) in PROGRAMS.items()}
