"""`nca` command line: train, evaluate, export, record, serve.

Every user error ends as one line `error: ...` on stderr and exit code 2 (130 on Ctrl-C);
a traceback means a bug in NCA Studio, not in the user's input.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from . import exits
from .config import DEFAULT_PRESET, PRESET_HELP, PRESETS, ConfigError, cli_options
from .record import cli as record_cli

COMMANDS_GROUP = "nca.commands"  # entry points: name = "module:add_parser"
COMMAND_ORDER = {"export": 0, "sweep": 1, "serve": 2}  # after the core's train, evaluate, record


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage + error; we print one line and point to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(exits.USER_ERROR, f"error: {message} (see {self.prog} --help)\n")


def _whole_number(minimum: int):
    """An argparse type: a whole number >= `minimum`, with a one-line message otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {value}")
        return value
    return parse


_positive_int = _whole_number(1)
_non_negative_int = _whole_number(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _steps_range(text: str) -> tuple[int, int]:
    parts = text.split("..") if ".." in text else [text, text]
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or MIN..MAX, got {text!r}") from None
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"need 1 <= MIN <= MAX, got {text!r}")
    return lo, hi


def _argparse_kind(f) -> Any:
    """What argparse checks for an option: its choices, or its number's kind (whole >= 1, whole >= 0,
    positive, any); the exact range is the config's to check, with the same message everywhere."""
    meta = f.metadata
    if meta.get("choices"):
        return meta["choices"]
    if f.type in (float, "float"):
        return _positive_float if meta.get("low_open") and meta.get("low") == 0 else float
    if f.type in (int, "int"):
        low = meta.get("low")
        if low is None:
            return int
        return _positive_int if low >= 1 else _non_negative_int
    return str


# Training options that override one config field each: (flag, field, argparse type or choices, help),
# all read from the configs' field metadata (nca/config.py).
TRAIN_OPTIONS = [(flag, name, _argparse_kind(f), f.metadata["help"]) for flag, name, f in cli_options()]


def _preset_value(field: str) -> str:
    model_cfg, train_cfg = PRESETS[DEFAULT_PRESET]
    value = getattr(model_cfg, field) if hasattr(model_cfg, field) else getattr(train_cfg, field)
    return repr(value) if value == "" else str(value)


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an NCA texture from a style image",
                       description="Train a texture NCA from STYLE_IMAGE and write a run directory. Every option "
                                   "below overrides one setting of the preset; the default shown is "
                                   f"{DEFAULT_PRESET}'s.",
                       epilog="presets: " + "; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items()))
    p.add_argument("style_image", help="PNG/JPEG style image (any mode; resized to --style-size)")
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help=f"training recipe (default: {DEFAULT_PRESET})")
    p.add_argument("--out", type=Path, help="run directory (default: runs/<image>-<time>)")
    for flag, field, kind, text in TRAIN_OPTIONS:
        typed = {"choices": list(kind)} if isinstance(kind, tuple) else {"type": kind, "metavar": flag[2:].upper()}
        p.add_argument(flag, dest=field, help=f"{text} (default: {_preset_value(field)})", **typed)
    steps = f"{PRESETS[DEFAULT_PRESET][1].steps_min}..{PRESETS[DEFAULT_PRESET][1].steps_max}"
    p.add_argument("--steps", type=_steps_range, help=f"rollout length per iteration, N or MIN..MAX (default: {steps})")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps (default: auto)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--init-from", type=Path, metavar="MODEL",
                   help="fine-tune: start from the weights of this checkpoint, run directory or model bundle "
                        "(its shape too: --channels, --hidden, --fire-rate come from it); all else is a new run")
    p.add_argument("--no-compile", action="store_true", help="do not torch.compile the update step")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary; print only the run directory")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from .train import train

    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out RUN_DIR")
    out = args.out or Path("runs") / f"{Path(args.style_image).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    overrides = {field: getattr(args, field) for _, field, _, _ in TRAIN_OPTIONS}
    if args.steps:
        overrides["steps_min"], overrides["steps_max"] = args.steps
    overrides = {k: v for k, v in overrides.items() if v is not None}  # what the user typed; the preset has the rest
    try:
        result = train(args.style_image, out, preset=args.preset, device=args.device, resume=args.resume,
                       init_from=args.init_from,
                       quiet=args.quiet, compile_step=False if args.no_compile else None, **overrides)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the last checkpoint is in {out}; continue with "
              f"nca train {args.style_image} --out {out} --resume", file=sys.stderr)
        return exits.INTERRUPTED
    print(result.out_dir)
    return 0


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="measure how well a model reproduces its style, and judge it",
        description="Grow states from the seed and compare them with the style image as training saw it. "
                    "style ratio: Gram style loss (VGG relu1_1..relu5_1) over that of a flat image of the style's "
                    "mean colour (0 = the style's own statistics, 1 = no better than flat); balanced: the same "
                    "with every VGG layer weighted alike (large-scale structure counts as much as colour); scale "
                    "ratio: feature size, 1.0 = the style's, above 1 = too small; contrast: the texture's over "
                    "the style's, 0 = flat. The verdict (good, drifts, poor, failed) applies the bar in "
                    "docs/quality-notes.md.")
    p.add_argument("model", nargs="+", help="run directory, checkpoint or model bundle")
    p.add_argument("--size", type=_positive_int, default=128, help="grid of each rollout, cells per side (default: 128)")
    p.add_argument("--samples", type=_positive_int, default=8, help="rollouts averaged per figure (default: 8)")
    p.add_argument("--steps", default="500,2000,5000", help="comma-separated step counts to measure at "
                                                            "(default: 500,2000,5000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the rollouts (default: 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--json", action="store_true", help="print one JSON line per model")
    p.add_argument("--save", type=Path, help="directory to save the rollout pictures into")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import run_cli

    return run_cli(args)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="nca", description="NCA Studio: train, export, play with and record texture NCAs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_train_parser(sub)
    add_evaluate_parser(sub)
    record_cli.add_parser(sub)
    # The layers above the core (exporter, web) register their commands as entry points, so the
    # core never imports upward (pyproject.toml, [project.entry-points."nca.commands"]).
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: COMMAND_ORDER.get(e.name, 99)):
        entry.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while torch is still loading, in the first seconds
        print("\ninterrupted", file=sys.stderr)
        return exits.INTERRUPTED


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .checkpoint import CheckpointError
    from .image import ImageError
    from .train import TrainingError
    from .vgg import WeightsError

    user_errors = (ConfigError, ImageError, CheckpointError, TrainingError, WeightsError, FileNotFoundError,
                   PermissionError, IsADirectoryError, NotADirectoryError)
    try:
        return int(args.func(args) or 0)
    except user_errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USER_ERROR
    except ValueError as exc:  # e.g. an unknown --device
        print(f"error: {exc}", file=sys.stderr)
        return exits.USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
