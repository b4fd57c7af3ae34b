"""Damage schedules for recordings: parse `KIND@STEP[:key=value,...]` specs, apply them to a state.

    circle@600:x=0.5,y=0.5,r=0.25   erase a disc back to the seed (x, y: centre as a fraction
                                    of width / height; r: radius as a fraction of the shorter side;
                                    it wraps around the edges: nca/disc.py)
    half@1200:side=left             erase the left (right, top, bottom) half back to the seed
    noise@1800:r=0.3                fill a disc (x, y default 0.5) with uniform noise in [-amp, amp]
    reset@2400                      the whole state back to the seed

"At step S" means: after the S-th update, before the frame of step S is taken, so the frame
of step S shows the damage and the next update is the first one that can repair it.
Parsing and masks are pure functions of the spec and the frame size; the only randomness
(noise) comes from a caller's torch.Generator, so a recording is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..disc import disc_mask
from ..fields import SCALE_LIMITS

SIDES = ("left", "right", "top", "bottom")

# Every kind, its parameters and their defaults. A key not listed here is a typo: refuse it.
KINDS: dict[str, dict[str, float | str]] = {
    "circle": {"x": 0.5, "y": 0.5, "r": 0.25},
    "half": {"side": "left"},
    "noise": {"x": 0.5, "y": 0.5, "r": 0.25, "amp": 1.0},
    "reset": {},
}

EXAMPLE = "circle@600:x=0.5,y=0.5,r=0.25"


class DamageError(ValueError):
    """A damage spec that cannot work; the message is one line for the user."""


@dataclass(frozen=True)
class Damage:
    kind: str
    step: int
    params: dict[str, float | str] = field(default_factory=dict)
    spec: str = ""  # the text it was parsed from, for reports

    def __str__(self) -> str:
        return self.spec or f"{self.kind}@{self.step}"

    def mask(self, height: int, width: int) -> torch.Tensor:
        """Boolean H x W mask of the damaged cells."""
        return region_mask(self, height, width)

    def box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) bounding box of the damaged cells, bottom/right exclusive."""
        mask = self.mask(height, width)
        rows, cols = mask.any(dim=1).nonzero(), mask.any(dim=0).nonzero()
        if len(rows) == 0:
            return 0, 0, 0, 0
        return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def parse_damage(spec: str) -> Damage:
    kind, step, params, text = parse_event(spec, KINDS, EXAMPLE)
    return Damage(kind, step, params, text)


def parse_event(spec: str, kinds: dict[str, dict[str, float | str]], example: str, what: str = "damage",
                error: type[ValueError] = DamageError) -> tuple[str, int, dict[str, float | str], str]:
    """(kind, step, parameters with defaults, text) of a `KIND@STEP[:key=value,...]` spec; damage
    and nca/record/paint.py's field strokes share the language."""
    text = spec.strip()
    head, _, tail = text.partition(":")
    kind, at, step_text = head.partition("@")
    kind = kind.strip().lower()
    if not at:
        raise error(f"bad {what} spec {spec!r}: expected KIND@STEP[:key=value,...], e.g. {example}")
    if kind not in kinds:
        raise error(f"unknown {what} kind {kind!r} in {spec!r}; choose one of {', '.join(kinds)}")
    try:
        step = int(step_text)
    except ValueError:
        raise error(f"bad {what} step {step_text!r} in {spec!r}: expected a whole number of steps") from None
    return kind, step, parse_params(kind, tail, kinds[kind], spec, error), text


def parse_params(kind: str, tail: str, defaults: dict[str, float | str], spec: str,
                 error: type[ValueError] = DamageError) -> dict[str, float | str]:
    """`key=value,...` over `defaults`; a key not among them is a typo: refuse it."""
    params = dict(defaults)
    for item in filter(None, (s.strip() for s in tail.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in defaults:
            known = ", ".join(defaults) or "none"
            raise error(f"bad parameter {item!r} for {kind} in {spec!r}; its parameters: {known}")
        params[key] = _parse_value(kind, key, value.strip(), spec, error)
    return params


# Fractions of the frame keep a spec meaningful at every --size; angles are in degrees.
LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0), "r": (0.0, 2.0), "amp": (0.0, 10.0), "angle": (-360.0, 360.0),
          "factor": (0.0, 10.0), "soft": (0.0, 1.0), "lo": (0.0, 10.0), "hi": (0.0, 10.0), "k": SCALE_LIMITS}


def _parse_value(kind: str, key: str, value: str, spec: str, error: type[ValueError] = DamageError) -> float | str:
    if key == "side":
        if value not in SIDES:
            raise error(f"bad side {value!r} in {spec!r}; choose one of {', '.join(SIDES)}")
        return value
    try:
        number = float(value)
    except ValueError:
        raise error(f"bad number {value!r} for {key} in {spec!r}") from None
    lo, hi = LIMITS[key]
    if not (lo <= number <= hi) or (key == "r" and number == 0.0):
        raise error(f"{key}={value} in {spec!r} is out of range ({lo:g}..{hi:g})")
    return number


def region_mask(damage: Damage, height: int, width: int) -> torch.Tensor:
    p = damage.params
    if damage.kind == "reset":
        return torch.ones(height, width, dtype=torch.bool)
    if damage.kind == "half":
        rows = torch.arange(height)[:, None].expand(height, width)
        cols = torch.arange(width)[None, :].expand(height, width)
        side = p["side"]
        if side == "left":
            return cols < width // 2
        if side == "right":
            return cols >= width // 2
        if side == "top":
            return rows < height // 2
        return rows >= height // 2
    return disc_mask(height, width, float(p["x"]), float(p["y"]), float(p["r"]))


def apply_damage(damage: Damage, x: torch.Tensor, seed: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """The damaged copy of state `x` (B x C x H x W).

    `seed` is the state the run started from (same shape): erased cells return to it, so the
    frame shows the seed colour there. `noise` (C' x H x W with C' >= C, uniform in [-1, 1]) is
    needed by the noise kind only; the caller draws it once per event so every model of a grid
    gets the same damage.
    """
    _, c, h, w = x.shape
    mask = region_mask(damage, h, w).to(x.device)
    if damage.kind == "noise":
        if noise is None:
            raise ValueError("noise damage needs a noise tensor")
        fill = (float(damage.params["amp"]) * noise[:c]).to(x)[None].expand_as(x)
    else:
        fill = seed
    return torch.where(mask, fill, x)


def validate_schedule(events: list, steps: int, what: str = "damage", error: type[ValueError] = DamageError) -> list:
    """Sorted by step (a stable sort keeps the user's order for events at the same step)."""
    for d in events:
        if not (1 <= d.step < steps):
            raise error(f"{what} {d} is at step {d.step}, outside the run: use a step from 1 to {steps - 1}")
    return sorted(events, key=lambda d: d.step)
