"""`nca record`: argparse wiring around nca.record.record."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from .. import exits
from .errors import RecordError
from .options import FORMATS


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "record", help="render a video of a model growing and repairing damage",
        description="Render a video of a texture growing from the seed, with optional damage and repair.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="damage specs (x, y: fractions of width and height; r: of the shorter side):\n"
               "  circle@600:x=0.5,y=0.5,r=0.25   erase a disc back to the seed\n"
               "  half@1200:side=left             erase a half (left, right, top, bottom)\n"
               "  noise@1800:r=0.3                fill a disc with noise (x, y, r, amp)\n"
               "  reset@2400                      everything back to the seed\n"
               "painted fields (--field, --speed-field, --paint; angles in degrees):\n"
               "  --field vortex:x=0.5,y=0.5      direction: uniform, radial, vortex, hyperbolic (x, y, angle)\n"
               "  --speed-field gradient:lo=0.25,hi=2   fire-rate factor from left to right\n"
               "  --scale-field gradient:lo=0.67,hi=1.5 the texture k times as large, left to right\n"
               "  --paint direction@600:r=0.2,angle=45  set the angle in a disc\n"
               "  --paint speed@600:r=0.2,factor=0      a disc's fire-rate factor (0 freezes)\n"
               "  --paint graft@300:r=0.3,soft=0.5      the disc runs the --graft model; ungraft@S undoes it\n"
               "  --paint scale@300:r=0.3,k=1.5         the texture k times as large in a disc\n"
               "example: nca record runs/leopard --out leopard.mp4 --damage circle@600 --overlay")
    p.add_argument("model", help="checkpoint file, run directory or model bundle directory")
    p.add_argument("--out", "-o", required=True, help="output file (.mp4, .gif, .webm) or directory (frames)")
    p.add_argument("--size", default="256", help="grid size N or WIDTHxHEIGHT in cells (default 256)")
    p.add_argument("--steps", type=int, default=1200, help="NCA steps to run (default 1200)")
    p.add_argument("--steps-per-frame", type=int, default=4, help="steps between frames (default 4)")
    p.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same frames on CPU (default 0)")
    p.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscaling factor (default 1)")
    p.add_argument("--format", choices=FORMATS, help="default: from the --out extension")
    p.add_argument("--overlay", action="store_true", help="draw the step counter (and model names)")
    p.add_argument("--damage", action="extend", nargs="+", default=[], metavar="SPEC",
                   help="damage event(s) KIND@STEP[:key=value,...]; repeatable (default: none)")
    p.add_argument("--grid", action="extend", nargs="+", default=[], metavar="MODEL",
                   help="more models rendered side by side, same seed and damage (default: none)")
    p.add_argument("--angle", type=float, default=0.0, help="rotate the texture by this many degrees (default 0)")
    p.add_argument("--field", metavar="KIND[:x=,y=,angle=]", help="direction field preset (default: uniform)")
    p.add_argument("--speed-field", metavar="KIND[:lo=,hi=]", help="fire-rate field preset (default: uniform)")
    p.add_argument("--scale-field", metavar="KIND[:lo=,hi=]", help="perception scale field preset (default: uniform)")
    p.add_argument("--graft", metavar="MODEL", help="a second model of the same channel count for graft strokes")
    p.add_argument("--paint", action="extend", nargs="+", default=[], metavar="SPEC",
                   help="field stroke(s) KIND@STEP[:key=value,...]; repeatable (default: none)")
    p.add_argument("--no-repair", action="store_true", help="skip the repair figure (no VGG)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run_cli)
    return p


def run_cli(args: argparse.Namespace) -> int:
    from .damage import DamageError
    from .render import record  # torch loads here, not when `nca --help` builds the parser

    try:
        result = record(
            args.model, args.out, size=args.size, steps=args.steps, steps_per_frame=args.steps_per_frame,
            fps=args.fps, seed=args.seed, scale=args.scale, format=args.format, overlay=args.overlay,
            damage=args.damage, grid=args.grid, device=args.device, angle=math.radians(args.angle),
            repair=not args.no_repair, progress=not args.quiet, field=args.field, speed_field=args.speed_field,
            scale_field=args.scale_field, graft=args.graft, paint=args.paint)
    except (RecordError, DamageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; nothing written", file=sys.stderr)
        return exits.INTERRUPTED
    print(result.summary())
    for figure in result.repairs:
        print(f"repair {figure}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nca.record ...`: the same command without the `nca` front end."""
    parser = argparse.ArgumentParser(prog="nca")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["record", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)
