"""Stage 2 of the export: numbers -> GLSL ES 3.00 literals, printed exactly.

Every float32 is printed with the fewest decimal digits that read back as the same float32
(numpy's shortest round-trip repr of a float32, not of the widened float64), so the shader
compiler sees bit-identical weights. Matrices are column-major as GLSL expects:
`mat4(c0, c1, c2, c3)` takes four columns, and `M * v` sums the columns weighted by v.
"""

from __future__ import annotations

import math

import numpy as np


def float_literal(x: float | np.floating) -> str:
    """The shortest decimal that round-trips the float32 value, always with a '.' or exponent."""
    f = np.float32(x)
    if not math.isfinite(float(f)):
        raise ValueError(f"cannot print non-finite value {x!r} as a GLSL literal")
    if f == 0:
        return "0.0"  # also maps -0.0 to 0.0: same arithmetic, stabler golden files
    text = np.format_float_positional(f, unique=True, trim="0") if 1e-4 <= abs(f) < 1e7 else \
        np.format_float_scientific(f, unique=True, trim="0")
    if text.endswith("."):
        text += "0"
    # GLSL needs a digit after the point before an exponent: "1.e-05" -> "1.0e-05"
    text = text.replace(".e", ".0e")
    if np.float32(float(text)) != f:  # belt and braces: the literal must be exact
        raise AssertionError(f"float literal {text} does not round-trip {f!r}")
    return text


def vec4(values: np.ndarray) -> str:
    v = np.asarray(values, np.float32).reshape(4)
    return "vec4(" + ", ".join(float_literal(x) for x in v) + ")"


def mat4(block: np.ndarray) -> str:
    """A 4x4 block B with rows = outputs -> a GLSL mat4 such that (mat4 * v)[r] = sum_c B[r][c] v[c].

    GLSL constructors fill column by column, so we print B's columns, i.e. B.T row by row.
    An all-zero block prints as mat4(0.0) to keep padded shaders short.
    """
    b = np.asarray(block, np.float32).reshape(4, 4)
    if not b.any():
        return "mat4(0.0)"
    return "mat4(" + ", ".join(float_literal(x) for x in b.T.reshape(16)) + ")"


def is_zero(block: np.ndarray) -> bool:
    return not np.asarray(block).any()
