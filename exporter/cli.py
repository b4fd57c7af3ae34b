"""`nca export` / `python -m exporter`: argparse wiring around exporter.export.

`nca` finds `add_parser` through the entry point pyproject.toml registers for it.
"""

from __future__ import annotations

import argparse
import sys

from nca import exits

from .bundle import STUDIO_MODELS


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("source", metavar="RUN_DIR_OR_CHECKPOINT",
                        help="a run directory, a checkpoint.pt or an existing bundle directory")
    parser.add_argument("--name", help="bundle name: letters, digits, '_' and '-' (default: the run directory's name)")
    parser.add_argument("--out", default=str(STUDIO_MODELS), metavar="DIR",
                        help=f"directory that receives the bundle directory (default: {STUDIO_MODELS}, the models "
                             "folder of the studio's default data directory, so `nca serve` lists it)")
    parser.add_argument("--force", action="store_true", help="replace an existing bundle of the same name")
    parser.add_argument("--html", metavar="FILE", help="also write a standalone single-file HTML page")
    parser.set_defaults(func=run)
    return parser


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export", help="export a checkpoint to a WebGL model bundle",
        description="Turn a checkpoint into a model bundle (model.json, GLSL shaders, thumbnail) "
                    "for the studio, and optionally a standalone HTML page.")
    return configure(parser)


def run(args: argparse.Namespace) -> int:
    from . import ExportError, export  # late import: `nca --help` stays fast

    try:
        bundle = export(args.source, args.out, name=args.name, html=args.html, force=args.force)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USER_ERROR
    print(f"wrote {bundle}")
    if args.html:
        print(f"wrote {args.html}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = configure(argparse.ArgumentParser(
        prog="python -m exporter", description="Export an NCA checkpoint to a WebGL model bundle."))
    return run(parser.parse_args(argv))
