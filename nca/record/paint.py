"""Painted fields in recordings: the starting field (`--field`, `--speed-field`, `--scale-field`) and strokes
over time (`--paint`).

    --field vortex:x=0.3,y=0.5,angle=0   direction preset (uniform, radial, vortex, hyperbolic), centred
                                         on x, y (fractions), turned by angle (degrees)
    --speed-field gradient:lo=0.25,hi=2  fire-rate factors from lo (left) to hi (right)
    --scale-field gradient:lo=0.67,hi=1.5  perception scales from lo (left) to hi (right): the texture
                                         k times as large (smoothly in models trained with --scale-range)
    --paint direction@600:x=0.5,y=0.5,r=0.2,angle=45   set the angle (degrees) in a disc
    --paint speed@600:r=0.2,factor=0     a disc's fire-rate factor (0 freezes, 2 doubles)
    --paint graft@300:r=0.3,soft=0.5     the disc runs the --graft model (soft: the blended edge)
    --paint ungraft@900:r=0.3            back to the model
    --paint scale@300:r=0.3,k=1.5,soft=0.5   the texture k times as large in a disc

Strokes share the damage spec language (damage.py) and happen at the same moment in the timeline:
after the S-th update, before the frame of step S. The field is nca/fields.py's, the one the page paints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .. import fields
from .damage import parse_event, parse_params
from .errors import RecordError

DISC = {"x": 0.5, "y": 0.5, "r": 0.25}
KINDS: dict[str, dict[str, float | str]] = {
    "direction": {**DISC, "angle": 0.0},
    "speed": {**DISC, "factor": 0.0},
    "graft": {**DISC, "soft": 0.5},
    "ungraft": {**DISC, "soft": 0.5},
    "scale": {**DISC, "k": 1.5, "soft": 0.5},
}
EXAMPLE = "graft@300:x=0.5,y=0.5,r=0.3"
DIRECTION_PARAMS: dict[str, float | str] = {"x": 0.5, "y": 0.5, "angle": 0.0}
SPEED_PARAMS: dict[str, float | str] = {"lo": 0.25, "hi": 2.0}
SCALE_PARAMS: dict[str, float | str] = {"lo": 0.67, "hi": 1.5}


@dataclass(frozen=True)
class Paint:
    kind: str
    step: int
    params: dict[str, float | str] = field(default_factory=dict)
    spec: str = ""

    def __str__(self) -> str:
        return self.spec or f"{self.kind}@{self.step}"

    def apply(self, field_: torch.Tensor) -> torch.Tensor:
        p = {k: float(v) for k, v in self.params.items()}
        disc = (p["x"], p["y"], p["r"])
        if self.kind == "direction":
            return fields.paint(field_, "direction", math.radians(p["angle"]), *disc)
        if self.kind == "speed":
            return fields.paint(field_, "speed", p["factor"], *disc)
        if self.kind == "scale":
            return fields.paint(field_, "scale", p["k"], *disc, soft=p["soft"])
        return fields.paint(field_, "graft", 1.0 if self.kind == "graft" else 0.0, *disc, soft=p["soft"])


def parse_paint(spec: str) -> Paint:
    kind, step, params, text = parse_event(spec, KINDS, EXAMPLE, what="paint", error=RecordError)
    return Paint(kind, step, params, text)


def _preset(text: str, choices: tuple[str, ...], params: dict[str, float | str], option: str) -> tuple[str, dict]:
    kind, _, tail = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in choices:
        raise RecordError(f"unknown {option} {kind!r}; choose one of {', '.join(choices)}")
    return kind, {k: float(v) for k, v in parse_params(kind, tail, params, text, RecordError).items()}


def initial_field(height: int, width: int, direction: str | None, speed: str | None,
                  scale: str | None = None) -> torch.Tensor:
    """The field a recording starts from: uniform, or the named presets."""
    f = fields.uniform_field(height, width)
    if direction:
        kind, p = _preset(direction, fields.DIRECTIONS, DIRECTION_PARAMS, "--field")
        fields.set_direction(f, fields.direction_angles(kind, height, width, p["x"], p["y"], math.radians(p["angle"])))
    if speed:
        kind, p = _preset(speed, fields.SPEEDS, SPEED_PARAMS, "--speed-field")
        f[2] = fields.speed_factors(kind, height, width, p["lo"], p["hi"]).float()
    if scale:
        kind, p = _preset(scale, fields.SCALES, SCALE_PARAMS, "--scale-field")
        if not all(fields.SCALE_LIMITS[0] <= p[k] <= fields.SCALE_LIMITS[1] for k in ("lo", "hi")):
            raise RecordError(f"--scale-field: lo and hi must be from {fields.SCALE_LIMITS[0]:g} to "
                              f"{fields.SCALE_LIMITS[1]:g}, got {p['lo']:g} and {p['hi']:g}")
        fields.set_scale(f, fields.scale_factors(kind, height, width, p["lo"], p["hi"]))
    return f
