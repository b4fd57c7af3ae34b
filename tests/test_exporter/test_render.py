"""Stage 3 of the exporter: the shader templates render to the golden GLSL.

Regenerate the golden GLSL after an intended template change with
    NCA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_exporter -q
and review the diff of tests/test_exporter/golden/ like any other code change.
"""

from __future__ import annotations

import pytest

from exporter.pack import pack
from exporter.render import PROGRAMS, RenderError, render_all, render_template, shader_context
from nca.checkpoint import Checkpoint
from nca.config import ModelConfig, TrainConfig
from tests.conftest import REPO, random_model
from tests.test_exporter.helpers import GOLDEN, UPDATE_GOLDEN, tiny_checkpoint


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
    for program, source in render_all(pack(tiny_checkpoint()), "tiny").items():
        if program == "network":  # a piece of GLSL spliced into another model's graft.frag
            assert source.startswith("// A piece of GLSL") and "#version" not in source
            continue
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
