"""`nca` command line: train, evaluate, export, record, serve.

Every user error ends as one line `error: ...` on stderr and exit code 2 (130 on Ctrl-C);
a traceback means a bug in NCA Studio, not in the user's input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from .config import PRESET_HELP, PRESETS, ConfigError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage + error; we print one line and point to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"error: {message} (see {self.prog} --help)\n")


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


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an NCA texture from a style image",
                       description="Train a texture NCA from STYLE_IMAGE and write a run directory.")
    p.add_argument("style_image", help="PNG/JPEG style image (any mode; resized to --style-size)")
    p.add_argument("--preset", default="quick", choices=list(PRESETS),
                   help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items()) + " (default quick)")
    p.add_argument("--out", type=Path, help="run directory (default runs/<image>-<time>)")
    p.add_argument("--iterations", type=_positive_int)
    p.add_argument("--channels", type=_positive_int, help="state channels, a multiple of 4 from 4 to 32")
    p.add_argument("--hidden", type=_positive_int, help="hidden units of the update MLP")
    p.add_argument("--fire-rate", type=_positive_float)
    p.add_argument("--loss", choices=["gram", "swd"])
    p.add_argument("--gram-balance", choices=["layer", "none"],
                   help="layer: every VGG layer weighs the same; none: plain Gram sum (relu1_1 dominates)")
    p.add_argument("--grid", type=_positive_int, help="training grid size (cells per side)")
    p.add_argument("--batch", type=_positive_int)
    p.add_argument("--pool-size", type=_positive_int)
    p.add_argument("--steps", type=_steps_range, help="rollout length per iteration, N or MIN..MAX")
    p.add_argument("--lr", type=_positive_float)
    p.add_argument("--style-size", type=_positive_int, help="longest side of the style image in pixels")
    p.add_argument("--damage", type=int, dest="damage_samples", metavar="N",
                   help="erase a disc in N samples of each batch (learn to repair)")
    p.add_argument("--seed-noise", type=float, help="std of the seed state (0 = zeros)")
    p.add_argument("--vgg-pool", choices=["avg", "max"])
    p.add_argument("--vgg-weights", help="another vgg_normalised-style state_dict file")
    p.add_argument("--probe-every", type=_non_negative_int, metavar="N",
                   help="in the run's second half, every N iterations grow a few states for 2000 steps "
                        "and keep the checkpoint whose texture holds best (0 = keep the last)")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="CPU threads (0 = torch default)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--no-compile", action="store_true", help="do not torch.compile the update step")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from .train import train

    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out RUN_DIR")
    out = args.out or Path("runs") / f"{Path(args.style_image).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    overrides = {name: getattr(args, name) for name in (
        "iterations", "channels", "hidden", "fire_rate", "loss", "grid", "batch", "pool_size", "lr",
        "style_size", "damage_samples", "seed_noise", "vgg_pool", "vgg_weights", "seed", "threads",
        "gram_balance", "probe_every")}
    if args.steps:
        overrides["steps_min"], overrides["steps_max"] = args.steps
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.resume:
        extra = sorted(set(overrides) - {"iterations"})
        if extra:
            raise ConfigError(f"--resume keeps the run's settings; drop {', '.join('--' + e.replace('_', '-') for e in extra)}")
    try:
        result = train(args.style_image, out, preset=args.preset, device=args.device, resume=args.resume,
                       quiet=args.quiet, compile_step=False if args.no_compile else None, **overrides)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the last checkpoint is in {out}; continue with "
              f"nca train {args.style_image} --out {out} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(result.out_dir)
    return 0


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="measure how well a model reproduces its style",
                       description="Roll out from the seed and report the Gram style ratio and the feature-scale ratio.")
    p.add_argument("model", nargs="+", help="run directory, checkpoint or model bundle")
    p.add_argument("--size", type=_positive_int, default=128)
    p.add_argument("--samples", type=_positive_int, default=8, help="rollouts averaged per figure")
    p.add_argument("--steps", default="500,2000,5000", help="comma-separated step counts to measure at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
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
    # The other commands live with their packages; each adds its own subparser.
    for module_name in ("exporter.cli", "nca.record", "web.cli"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while torch is still loading, in the first seconds
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


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
        return EXIT_USER_ERROR
    except ValueError as exc:  # e.g. an unknown --device
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
