"""The quality bar and the one-word verdict it gives an evaluation: good, drifts, poor or failed.

  * failed: the model learned nothing: its rollout is flat or black (contrast under
    MIN_CONTRAST of the style's), or it has contrast but is no closer to the style than a flat
    image of the style's mean colour (style ratio of 1 or more: stripes where the style has scratches);
  * poor:   the texture is not the style's: style ratio above MAX_STYLE at the reference step,
    its large shapes missing (balanced ratio, every VGG layer weighed alike, above MAX_BALANCED:
    the plain ratio is dominated by colour and fine detail and passed a speckle for coins),
    or features of another size (scale ratio outside SCALE_RANGE);
  * drifts: it starts right but changes: the style ratio rises by more than MAX_RISE from the
    first measured step to any step after the reference one, unless it stays under CALM_STYLE
    (a texture that starts with defects and settles cleaner can rise a lot from a tiny base);
  * good:   all of the above hold.
"""

from __future__ import annotations

import math
from typing import Any

REFERENCE_STEP = 2000  # where style and scale are judged; the rise at every later measured step
MAX_STYLE = 0.05
MAX_BALANCED = 0.35
MAX_RISE = 0.20
CALM_STYLE = 0.02
SCALE_RANGE = (0.8, 1.25)
MIN_CONTRAST = 0.2
VERDICTS = ("good", "drifts", "poor", "failed")


def verdict(steps: dict[int, dict[str, float]]) -> dict[str, Any]:
    """`steps` maps step count -> {"style_ratio", "scale_ratio", "contrast"} (nca.evaluate's report).

    Returns {"verdict": one of VERDICTS, "reasons": [short phrases], "rises": {step: rise}}."""
    if not steps:
        raise ValueError("verdict needs at least one measured step")
    counts = sorted(int(n) for n in steps)
    by_step = {int(n): v for n, v in steps.items()}
    ref = reference_step(counts)
    at_ref = by_step[ref]
    style, scale = at_ref["style_ratio"], at_ref["scale_ratio"]
    contrast = min(by_step[n].get("contrast", 1.0) for n in counts)
    worst_step = max(counts, key=lambda n: by_step[n]["style_ratio"])
    worst_style = by_step[worst_step]["style_ratio"]
    first = by_step[counts[0]]["style_ratio"]
    later = [n for n in counts if n > ref] or counts[-1:]
    rises = {n: _rise(first, by_step[n]["style_ratio"]) for n in later if n != counts[0]}

    if not all(math.isfinite(v) for v in (style, scale, contrast, worst_style)):
        return {"verdict": "failed", "reasons": ["the rollout is not finite"], "rises": rises}
    if contrast < MIN_CONTRAST:
        return {"verdict": "failed", "reasons": ["flat output: learned nothing"], "rises": rises}
    if worst_style >= 1.0:
        return {"verdict": "failed", "rises": rises, "reasons": [
            f"learned nothing: no closer to the style than a flat image (style ratio {worst_style:.2f} "
            f"at step {worst_step})"]}
    reasons = []
    if style > MAX_STYLE:
        reasons.append(f"style ratio {style:.3f} > {MAX_STYLE} at step {ref}")
    balanced = at_ref.get("balanced_ratio")  # older reports lack it
    if balanced is not None and balanced > MAX_BALANCED:
        reasons.append(f"large shapes missing (balanced ratio {balanced:.3f} > {MAX_BALANCED} at step {ref})")
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        reasons.append(f"scale {scale:.2f} outside {SCALE_RANGE[0]}..{SCALE_RANGE[1]}")
    if reasons:
        return {"verdict": "poor", "reasons": reasons, "rises": rises}
    for n, rise in rises.items():
        if rise > MAX_RISE and by_step[n]["style_ratio"] >= CALM_STYLE:
            reasons.append(f"style ratio rises {rise * 100:+.0f}% by step {n}")
    return {"verdict": "drifts" if reasons else "good", "reasons": reasons, "rises": rises}


def reference_step(counts: list[int]) -> int:
    """The measured step count nearest REFERENCE_STEP (the smaller of two as near)."""
    return min(counts, key=lambda n: (abs(n - REFERENCE_STEP), n))


def smaller_style_size(evaluation: dict[str, Any], style_size: int, multiple: int = 16) -> int | None:
    """For a poor verdict whose features came out too small (scale ratio above the range), the
    style size at which they would be the model's own: style_size / scale, down to a multiple of
    `multiple` (down: a model's features shrink by less than its style does). None where the scale
    is not the problem or no smaller size is left."""
    if evaluation.get("verdict") != "poor" or not evaluation.get("steps"):
        return None
    steps = {int(n): v for n, v in evaluation["steps"].items()}
    scale = steps[reference_step(sorted(steps))].get("scale_ratio", math.nan)
    if not (math.isfinite(scale) and scale > SCALE_RANGE[1]):
        return None
    size = max(multiple, math.floor(style_size / scale / multiple) * multiple)
    return size if size < style_size else None


def _rise(first: float, later: float) -> float:
    if first > 0:
        return later / first - 1.0
    return 0.0 if later <= 0 else math.inf


def describe(result: dict[str, Any]) -> str:
    """One line for a person: `good`, or `drifts: style ratio rises +31% by step 5000`."""
    reasons = result.get("reasons") or []
    return result["verdict"] + (": " + "; ".join(reasons) if reasons else "")
