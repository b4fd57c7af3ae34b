"""Orientation of a quality suite's textures: the dominant direction of the luminance gradients and
how strongly the gradients share it, for the style and for the rollouts (not a test).

The structure tensor of each image: the mean of [gx², gx·gy; gx·gy, gy²] over all pixels (periodic
differences). Its main axis is the dominant gradient direction (degrees from the x axis, y down,
-90..90); its coherence, (λ1 - λ2) / (λ1 + λ2), is 0 when gradients point every way alike and 1 when
all are parallel (straight stripes). Reads the strips a suite wrote (rows/<trial>.png: the style,
then the rollout at each judged step), so it needs no runs, only the committed results.

    python bench/orientation.py docs/quality/fast-bars [--images gold,eggcarton]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nca.sweep.trial import STRIP_PAD  # noqa: E402


def orientation(rgb: np.ndarray) -> tuple[float, float]:
    """(dominant gradient angle in degrees, coherence 0..1) of an H x W x 3 image."""
    g = rgb.mean(axis=-1)
    gx = np.roll(g, -1, axis=1) - np.roll(g, 1, axis=1)
    gy = np.roll(g, -1, axis=0) - np.roll(g, 1, axis=0)
    jxx, jyy, jxy = (gx * gx).mean(), (gy * gy).mean(), (gx * gy).mean()
    angle = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))
    coherence = np.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy) if jxx + jyy > 0 else 0.0
    return float(angle), float(coherence)


def strip_tiles(path: Path) -> list[np.ndarray]:
    """The square images of a suite strip, left to right."""
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255
    size = a.shape[0]
    count = (a.shape[1] + STRIP_PAD) // (size + STRIP_PAD)
    return [a[:, i * (size + STRIP_PAD): i * (size + STRIP_PAD) + size] for i in range(count)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", type=Path, help="a quality suite's results directory (with rows/)")
    ap.add_argument("--images", default="", help="comma-separated trial names or image stems (default: all)")
    args = ap.parse_args()
    wanted = {s.strip() for s in args.images.split(",") if s.strip()}
    strips = sorted((args.suite / "rows").glob("*.png"))
    if not strips:
        raise SystemExit(f"error: no strips in {args.suite / 'rows'}: not a quality suite's results directory")
    for path in strips:
        name = path.stem
        if wanted and name not in wanted and name.rsplit("-s", 1)[0] not in wanted:
            continue
        row = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").is_file() else {}
        steps = sorted(int(n) for n in row.get("steps", {}))
        figures = [orientation(t) for t in strip_tiles(path)]
        labels = ["style"] + [str(n) for n in steps] if len(steps) == len(figures) - 1 else \
            ["style"] + [f"#{i}" for i in range(1, len(figures))]
        cells = "  ".join(f"{label} {a:+6.1f}° {c:.2f}" for label, (a, c) in zip(labels, figures, strict=True))
        print(f"{name:18s} {row.get('verdict', '-'):7s} {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
