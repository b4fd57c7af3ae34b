"""What a sweep is: trials (an image, a seed, a preset and option overrides) and how to judge them.

From the command line, `--set KEY=V1,V2` gives every listed value its own trials (the product of
all such lists, times images, times seeds); `--set KEY=V` with one value applies to all trials.
A spec file (JSON, or TOML) says the same:

    {"images": ["a.png", "b.png"], "seeds": [0, 1], "preset": "quick", "set": {"lr": [1e-3, 2e-3]}}

or lists its trials one by one: {"trials": [{"image": "a.png", "seed": 0, "preset": "classic",
"set": {"iterations": 800}, "name": "a"}]}. Paths are relative to the spec file.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import DEFAULT_PRESET, ConfigError
from ..config import preset as get_preset

NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
DEFAULT_STEPS = (500, 2000, 5000)


class SweepError(ValueError):
    """A sweep that cannot start; the message is one line for the user."""


@dataclass(frozen=True)
class Trial:
    image: Path
    seed: int = 0
    preset: str = DEFAULT_PRESET
    overrides: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # the run's directory and row name; unique within a sweep

    def config(self, threads: int):
        """The trial's (ModelConfig, TrainConfig); ConfigError for an option that cannot work."""
        return get_preset(self.preset, **{**self.overrides, "seed": self.seed, "threads": threads})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "image": self.image.name, "image_path": str(self.image), "seed": self.seed,
                "preset": self.preset, "overrides": self.overrides}


@dataclass(frozen=True)
class Judging:
    """How every trial is evaluated: `samples` rollouts of size x size from the seed, measured at `steps`."""

    steps: tuple[int, ...] = DEFAULT_STEPS
    samples: int = 4
    size: int = 128


def parse_value(text: str) -> Any:
    """'1e-3' -> 0.001, '[1,1,1,1,0]' -> list, 'swd' -> 'swd' (JSON where it parses, else the text)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def split_values(text: str) -> list[str]:
    """Comma-separated values; commas inside [...] belong to a list value."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_sets(items: list[str]) -> dict[str, list[Any]]:
    """['lr=1e-3,2e-3', 'iterations=300'] -> {'lr': [0.001, 0.002], 'iterations': [300]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key or not split_values(values):
            raise SweepError(f"--set takes KEY=VALUE[,VALUE...], got {item!r}")
        grid[key] = [parse_value(v) for v in split_values(values)]
    return grid


def product_trials(images: list[Path], seeds: list[int], preset: str, grid: dict[str, list[Any]]) -> list[Trial]:
    """Every image x seed x combination of the grid's values; names say what varies."""
    keys = list(grid)
    varied = [k for k in keys if len(grid[k]) > 1]
    trials = []
    for image in images:
        for seed in seeds:
            for values in itertools.product(*(grid[k] for k in keys)):
                overrides = dict(zip(keys, values, strict=True))
                label = "".join(f"-{k}={_short(overrides[k])}" for k in varied)
                trials.append(Trial(image, seed, preset, overrides, NAME_UNSAFE.sub("_", f"{image.stem}-s{seed}{label}")))
    return trials


def _short(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def load_spec(path: Path) -> tuple[list[Trial], Judging]:
    """Trials and judging from a JSON or TOML spec file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"cannot read the sweep spec {path}: {exc}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SweepError(f"the sweep spec {path.name} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise SweepError(f"the sweep spec {path.name} must be an object with images/seeds/set or trials")
    base = path.parent
    judging = Judging(steps=tuple(sorted(data.get("steps", DEFAULT_STEPS))), samples=int(data.get("samples", 4)),
                      size=int(data.get("size", 128)))
    if "trials" in data:
        trials = []
        for i, t in enumerate(data["trials"]):
            image = base / t["image"]
            seed = int(t.get("seed", 0))
            name = NAME_UNSAFE.sub("_", t.get("name") or f"{image.stem}-s{seed}-{i}")
            trials.append(Trial(image, seed, t.get("preset", data.get("preset", DEFAULT_PRESET)), dict(t.get("set", {})), name))
        return trials, judging
    grid = {k: (v if isinstance(v, list) else [v]) for k, v in (data.get("set") or {}).items()}
    images = [base / p for p in data.get("images", [])]
    return product_trials(images, [int(s) for s in data.get("seeds", [0])], data.get("preset", DEFAULT_PRESET), grid), judging


def check_trials(trials: list[Trial]) -> None:
    """Refuse, before anything trains, options that cannot work and names that collide. Images are
    the trials' own business: a bad image is one failed row, not a stopped sweep."""
    if not trials:
        raise SweepError("the sweep has no trials: give images (and seeds), or a spec file with trials")
    names = [t.name for t in trials]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SweepError(f"two trials would share the run {twice[0]}: give them names in the spec")
    for t in trials:
        try:
            t.config(threads=1)
        except ConfigError as exc:
            raise SweepError(f"trial {t.name}: {exc}") from None
