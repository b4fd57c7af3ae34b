"""A sweep's results on disk, rebuilt from its rows after every finished trial.

    rows/<trial>.json    one row per finished trial (the sweep skips trials that have one)
    rows/<trial>.png     the style beside its rollouts at each judged step
    results.json, results.md, contact_sheet.png, best.json (the best trial of each image)
    notes.json           (written by hand) {trial or image stem: what a person saw}
    eye.json             (written by hand) {trial or image stem: {"YES": n, "PARTLY": n, "NO": n}}: how many
                         reviewers who saw only the pictures called the rollout the style's texture, its colours
                         and material without its shapes, or another texture
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..files import write_atomic
from ..verdict import REFERENCE_STEP as VERDICT_STEP
from ..verdict import verdict

REFERENCE_STEP = str(VERDICT_STEP)  # the step count best-of ranks by, and whose scale the table shows (a row's key)


def rows_dir(out: Path) -> Path:
    return out / "rows"


def save_row(out: Path, row: dict[str, Any]) -> None:
    write_atomic(rows_dir(out) / f"{row['name']}.json", json.dumps(row, indent=1) + "\n")


def load_rows(out: Path) -> list[dict[str, Any]]:
    """Every row, judged by today's bar (nca/verdict.py) from its figures, so a table never mixes bars."""
    rows = []
    for path in sorted(rows_dir(out).glob("*.json")):
        row = json.loads(path.read_text())
        row.setdefault("name", path.stem)  # rows from before the sweep named the trial by the file alone
        if row.get("steps") and row.get("status", "done") == "done":
            row.update(verdict({int(n): v for n, v in row["steps"].items()}))
            row["rises"] = {str(n): round(v, 4) for n, v in row["rises"].items()}
        rows.append(row)
    return rows


def scale_of(row: dict[str, Any]) -> float:
    """The scale ratio at the reference step, or at the last judged step when the sweep stopped earlier."""
    steps = row.get("steps", {})
    step = REFERENCE_STEP if REFERENCE_STEP in steps else max(steps, key=int, default=None)
    return steps[step]["scale_ratio"] if step else math.nan


def ratio_at(row: dict[str, Any], step: str) -> float:
    return row.get("steps", {}).get(step, {}).get("style_ratio", math.inf)


def best_of(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per image, the trial to keep: good ones first, then the lowest style ratio at the reference step."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("verdict") == "failed":
            continue
        key = Path(row["image"]).stem
        rank = (row.get("verdict") != "good", ratio_at(row, REFERENCE_STEP))
        held = best.get(key)
        if held is None or rank < (held.get("verdict") != "good", ratio_at(held, REFERENCE_STEP)):
            best[key] = row
    return best


EYE_ANSWERS = ("YES", "PARTLY", "NO")


def eye_answer(votes: dict[str, int]) -> str:
    """The answer most reviewers gave (ties go to the stricter one), or "" when none was recorded."""
    if not any(votes.get(a, 0) for a in EYE_ANSWERS):
        return ""
    return max(reversed(EYE_ANSWERS), key=lambda a: votes.get(a, 0))


def _eye_cell(votes: dict[str, int] | None) -> str:
    if not votes:
        return "-"
    return ", ".join(f"{a} {votes[a]}" for a in EYE_ANSWERS if votes.get(a))


def _of_row(table: dict[str, Any], row: dict[str, Any]) -> Any:
    """A hand-written file's entry for `row`: by trial name, else by image stem (None when neither)."""
    return table.get(row["name"], table.get(Path(row["image"]).stem))


def markdown(rows: list[dict[str, Any]], notes: dict[str, str] | None = None,
             eye: dict[str, dict[str, int]] | None = None) -> str:
    notes, eye = notes or {}, eye or {}
    good = sum(r.get("verdict") == "good" for r in rows)
    steps = sorted({int(s) for r in rows for s in r.get("steps", {})})
    judged = [v for v in (_of_row(eye, r) for r in rows) if v]
    by_eye = (f" By eye, {sum(eye_answer(v) == 'YES' for v in judged)} of the {len(judged)} judged are the style's "
              "texture to most reviewers who saw only the pictures (their answers: by eye)." if judged else "")
    columns = ["trial", "image", "seed", "options", "train min", "iterations",
               "style ratio at " + " / ".join(map(str, steps)), "rise", "scale", "verdict",
               *(["by eye"] if judged else []), "seen"]
    lines = [
        f"{good} of {len(rows)} good.{by_eye} Style ratio (0 = the style's own statistics, 1 = a flat image of its "
        "mean colour) at each step count; its rise from the first step count; scale at step "
        f"{REFERENCE_STEP} (1.0 = features of the style's size).",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + " --- |" * len(columns),
    ]
    for r in rows:
        ratios = " / ".join(f"{r['steps'][str(n)]['style_ratio']:.4f}" if str(n) in r.get("steps", {}) else "-"
                            for n in steps)
        rises = " / ".join(f"{v * 100:+.0f}%" for _, v in sorted(r.get("rises", {}).items(), key=lambda kv: int(kv[0])))
        why = f" ({'; '.join(r['reasons'])})" if r.get("reasons") else ""
        options = ", ".join(f"{k}={v}" for k, v in (r.get("overrides") or {}).items()) or "-"
        minutes = f"{r['train_minutes']:.1f}" if "train_minutes" in r else "-"
        cells = [r["name"], Path(r["image"]).stem, r["seed"], options, minutes, _iterations(r), ratios, rises or "-",
                 f"{scale_of(r):.2f}", f"{r['verdict']}{why}", *([_eye_cell(_of_row(eye, r))] if judged else []),
                 _of_row(notes, r) or ""]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    best = best_of(rows)
    if best:
        lines += ["", "Best of each image: " + "; ".join(f"{k}: {v['name']} ({v['verdict']})" for k, v in sorted(best.items()))]
    return "\n".join(lines) + "\n"


def _iterations(row: dict[str, Any]) -> str:
    """The kept model's iterations, and the tries when a second one ran (nca/retry.py)."""
    tries = row.get("tries")
    kept = str(row.get("iterations", "-"))
    return f"{kept} (tries: {', '.join(t['name'] for t in tries)})" if tries else kept


def _trial_label(row: dict[str, Any]) -> str:
    return f"{row['name']}: {row['verdict']}"


def contact_sheet(out: Path, rows: list[dict[str, Any]],
                  label_of: Callable[[dict[str, Any]], str] = _trial_label) -> None:
    """Each row's strip (rows/<name>.png) under a line of text, one above the other."""
    strips = []
    for r in rows:
        path = rows_dir(out) / f"{r['name']}.png"
        if not path.is_file():
            continue
        with Image.open(path) as f:
            strip = f.convert("RGB")
        label = Image.new("RGB", (strip.width, 16), (255, 255, 255))
        ImageDraw.Draw(label).text((2, 2), label_of(r), fill=(0, 0, 0))
        strips.append((label, strip))
    if not strips:
        return
    width = max(s.width for _, s in strips)
    sheet = Image.new("RGB", (width, sum(lbl.height + s.height + 6 for lbl, s in strips)), (255, 255, 255))
    y = 0
    for label, strip in strips:
        sheet.paste(label, (0, y))
        sheet.paste(strip, (0, y + label.height))
        y += label.height + strip.height + 6
    sheet.save(out / "contact_sheet.png")


def write_tables(out: Path) -> list[dict[str, Any]]:
    rows = load_rows(out)
    write_atomic(out / "results.json", json.dumps(rows, indent=1) + "\n")
    notes, eye = (json.loads(p.read_text()) if p.is_file() else {} for p in (out / "notes.json", out / "eye.json"))
    write_atomic(out / "results.md", markdown(rows, notes, eye))
    write_atomic(out / "best.json", json.dumps({k: v["name"] for k, v in sorted(best_of(rows).items())}, indent=1) + "\n")
    contact_sheet(out, rows)
    return rows
