"""Stage 2 of the exporter: weights become exact GLSL float literals and column-major matrices."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exporter.glsl import float_literal, mat4, vec4


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
