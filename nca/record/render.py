"""Record a video of a texture growing from the seed and repairing damage: `nca record`.

Usage (Python):

    from nca.record import record
    result = record("runs/leopard", "leopard.mp4", size=256, steps=1200,
                    damage=["circle@600:x=0.5,y=0.5,r=0.25"])
    print(result.repairs[0])          # steps the disc took to heal, or "not recovered"

The PyTorch model is the renderer, so a video shows exactly what the checkpoint does.
Every random draw (fire masks, seed noise, damage noise) comes from torch.Generators seeded
with `seed`, so on the CPU the same options give bit-identical frames.

Timeline: the frame of step 0 is the seed; frames follow every `steps_per_frame` updates up
to `steps` (steps // steps_per_frame + 1 frames). Damage "at step S" is applied after the
S-th update and shows in the frame of step S (see damage.py).

Output goes to a temporary name in the destination directory and is renamed at the end,
so an error or Ctrl-C never leaves a half-written video (or half a frames directory): see
writers.py. The repair figure is measured by repair.py.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .. import fields
from ..checkpoint import CheckpointError, load_checkpoint
from ..model import NCA, pick_device, to_rgb
from ..progress import progress_bar
from .damage import Damage, apply_damage, parse_damage, validate_schedule
from .errors import RecordError
from .options import check_int, format_for, parse_size
from .paint import Paint, initial_field, parse_paint
from .repair import MEASURE_EVERY, RepairFigure, RepairMeter
from .writers import check_output, open_writer

GRID_GAP = 2  # dark cells between grid panels; even, so it never flips the frame's parity


# ---------------------------------------------------------------------------- models

@dataclass
class _Run:
    """One model's rollout: its state, the seed it restarts damage from, its own fire-mask RNG."""

    label: str
    model: NCA
    seed_state: torch.Tensor
    generator: torch.Generator
    x: torch.Tensor
    style: torch.Tensor | None  # 1 x 3 x h x w in [0, 1]: the image it was trained on, when known


def load_model(source: NCA | str | Path, device: torch.device) -> tuple[NCA, float, torch.Tensor | None, str]:
    """(model on device, seed noise std, style image or None, label) from an NCA, a checkpoint file,
    a run directory or a model bundle directory."""
    if isinstance(source, NCA):
        return source.to(device).eval(), 0.0, None, "model"
    try:
        ckpt = load_checkpoint(source)
    except CheckpointError as exc:
        raise RecordError(str(exc)) from None
    path = Path(source)
    # Name panels after what the user typed: the run/bundle directory, or the file's stem.
    label = path.name if path.is_dir() else path.parent.name if path.name == "checkpoint.pt" else path.stem
    style = getattr(ckpt, "style_image", None)  # H x W x 3 uint8; older checkpoints have none
    if style is not None:
        style = (style.permute(2, 0, 1)[None].float() / 255.0).to(device)
    return ckpt.build_model(device), ckpt.train_config.seed_noise, style, label or str(path)


def _new_run(source: NCA | str | Path, device: torch.device, width: int, height: int, seed: int) -> _Run:
    model, noise, style, label = load_model(source, device)
    # One generator per model, all seeded alike: grid panels see the same fire-mask stream.
    generator = torch.Generator(device=device).manual_seed(seed)
    state = model.seed(1, height, width, noise=noise, generator=generator)
    return _Run(label, model, state, generator, state.clone(), style)


# ---------------------------------------------------------------------------- frames

def compose(states: Sequence[torch.Tensor], scale: int) -> np.ndarray:
    """States -> one H x W x 3 uint8 frame: panels side by side, nearest-neighbour upscaled."""
    panels = []
    for i, x in enumerate(states):
        rgb = (to_rgb(x)[0].permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
        if i:
            panels.append(np.zeros((rgb.shape[0], GRID_GAP, 3), np.uint8))
        panels.append(rgb)
    frame = np.concatenate(panels, axis=1) if len(panels) > 1 else panels[0]
    if scale > 1:
        frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)
    return frame


def grid_width(width: int, panels: int, scale: int) -> int:
    """Frame width in pixels; must agree with compose()."""
    return (panels * width + (panels - 1) * GRID_GAP) * scale


class Overlay:
    """The step counter (and model names in a grid), drawn with Pillow's default font."""

    def __init__(self, height: int, labels: Sequence[str], panel_width: int):
        size = max(10, height // 18)
        try:
            self.font = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
            self.font = ImageFont.load_default()
        self.labels = list(labels) if len(labels) > 1 else []
        self.panel_width = panel_width
        self.pad = max(2, size // 4)

    def draw(self, frame: np.ndarray, step: int) -> np.ndarray:
        img = Image.fromarray(frame, "RGB")
        d = ImageDraw.Draw(img)
        self._text(d, (self.pad, self.pad), f"step {step}")
        for i, label in enumerate(self.labels):
            x = i * self.panel_width + self.pad
            box = d.textbbox((0, 0), label, font=self.font)
            self._text(d, (x, img.height - (box[3] - box[1]) - 3 * self.pad), label)
        return np.asarray(img)

    def _text(self, d: ImageDraw.ImageDraw, xy: tuple[int, int], text: str) -> None:
        # A dark box behind light text stays readable on any texture.
        left, top, right, bottom = d.textbbox(xy, text, font=self.font)
        d.rectangle((left - self.pad, top - self.pad, right + self.pad, bottom + self.pad), fill=(0, 0, 0))
        d.text(xy, text, font=self.font, fill=(255, 255, 255))


# ---------------------------------------------------------------------------- record

@dataclass
class RecordResult:
    path: Path
    format: str
    frames: int
    width: int
    height: int
    fps: int
    steps: int
    seconds: float  # wall-clock render time
    bytes: int
    repairs: list[RepairFigure] = field(default_factory=list)

    def summary(self) -> str:
        size = f"{self.bytes / 1e6:.2f} MB" if self.bytes >= 1e5 else f"{self.bytes / 1e3:.1f} kB"
        return (f"wrote {self.path} ({self.format}): {self.frames} frames, {self.width}x{self.height}, "
                f"{self.fps:g} fps, {size}, rendered in {self.seconds:.1f} s")


def _dir_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


def record(model: NCA | str | Path, out: str | Path, *, size: int | str | tuple[int, int] = 256,
           steps: int = 1200, steps_per_frame: int = 4, fps: int = 30, seed: int = 0, scale: int = 1,
           format: str | None = None, overlay: bool = False,
           damage: Iterable[str | Damage] = (), grid: Iterable[NCA | str | Path] = (),
           device: str | torch.device = "auto", angle: float = 0.0, repair: bool = True,
           progress: bool = True, field: str | None = None, speed_field: str | None = None,
           scale_field: str | None = None, graft: NCA | str | Path | None = None, paint: Iterable[str | Paint] = ()) -> RecordResult:
    """Render `model` (and the `grid` models beside it) growing from the seed into `out`.

    `field`, `speed_field` and `scale_field` name the field presets it starts from, `paint` the strokes that change
    the field over time, `graft` the second model that painted cells run (paint.py has the specs).

    Raises RecordError (or DamageError, both ValueError) with a one-line message on bad input;
    nothing is written in that case.
    """
    width, height = parse_size(size)
    check_int("steps", steps, 1)
    check_int("steps per frame", steps_per_frame, 1, steps)
    check_int("fps", fps, 1, 120)
    check_int("scale", scale, 1, 16)
    check_int("seed", seed, 0, 2**63 - 1)
    schedule = validate_schedule([d if isinstance(d, Damage) else parse_damage(d) for d in damage], steps)
    strokes = validate_schedule([s if isinstance(s, Paint) else parse_paint(s) for s in paint], steps,
                                what="paint", error=RecordError)
    if any(s.kind == "graft" for s in strokes) and graft is None:
        raise RecordError("graft strokes need a second model: pass --graft MODEL")
    sources = [model, *grid]

    out = Path(out)
    fmt = format_for(out, format)
    frame_w, frame_h = grid_width(width, len(sources), scale), height * scale
    check_output(out, fmt, frame_w, frame_h)
    if fmt == "gif" and fps > 50:
        raise RecordError(f"GIF cannot play {fps} fps: browsers slow frames shorter than 20 ms down; use --fps 50 or less")
    try:
        dev = device if isinstance(device, torch.device) else pick_device(device)
    except ValueError as exc:
        raise RecordError(str(exc)) from None

    runs = [_new_run(src, dev, width, height, seed) for src in sources]
    painted = None
    if field or speed_field or scale_field or graft is not None or strokes:
        painted = _Painted(initial_field(height, width, field, speed_field, scale_field), strokes,
                           load_model(graft, dev)[0] if graft is not None else None)
        painted.check(runs)
    labels = _unique([r.label for r in runs])
    meter = RepairMeter(labels, dev, MEASURE_EVERY) if repair and schedule else None
    overlay_ = Overlay(frame_h, labels, (width + GRID_GAP) * scale) if overlay else None

    bar = progress_bar(steps // steps_per_frame + 1, unit="frame", enabled=progress and sys.stderr.isatty())
    started = time.monotonic()
    writer = open_writer(out, fmt, frame_w, frame_h, fps)
    frames = 0
    try:
        for step in simulate(runs, steps, schedule, meter, angle, seed, painted):
            if step % steps_per_frame:
                continue
            frame = compose([r.x for r in runs], scale)
            writer.append(overlay_.draw(frame, step) if overlay_ else frame)
            frames += 1
            bar.update(1)
        writer.commit()
    except BaseException as exc:
        writer.abort()
        if isinstance(exc, OSError):  # ffmpeg died, disk full: still one line for the user
            raise RecordError(f"writing {out} failed: {exc}") from None
        raise
    finally:
        bar.close()
    figures = sorted(meter.figures, key=lambda f: (f.step, labels.index(f.model))) if meter else []
    return RecordResult(out, fmt, frames, frame_w, frame_h, fps, steps, time.monotonic() - started,
                        _dir_bytes(out), figures)


@dataclass
class _Painted:
    """A recording's field, its strokes still to come and the graft model (nca/fields.py)."""

    field: torch.Tensor
    strokes: list[Paint]
    graft: NCA | None

    def check(self, runs: list[_Run]) -> None:
        for run in runs:
            if self.graft is not None and self.graft.channels != run.model.channels:
                raise RecordError(f"cannot graft a {self.graft.channels}-channel model onto {run.label} "
                                  f"({run.model.channels} channels): grafting needs the same channel count")

    def step(self, run: _Run, angle: float) -> torch.Tensor:
        return fields.field_step(run.model, run.x, self.field, other=self.graft, angle=angle, generator=run.generator)

    def paint_until(self, step: int) -> None:
        while self.strokes and self.strokes[0].step == step:
            self.strokes.pop(0).apply(self.field)


@torch.no_grad()
def simulate(runs: list[_Run], steps: int, schedule: list[Damage], meter: RepairMeter | None,
             angle: float, seed: int, painted: _Painted | None = None) -> Iterable[int]:
    """Advance every run step by step, applying the damage schedule (and the field's strokes);
    yields each step (0..steps) once the states hold it, so the caller can take a frame."""
    # Damage noise has its own generator: adding a model to the grid never changes the damage.
    damage_gen = torch.Generator().manual_seed(seed)
    channels = max(r.model.channels for r in runs)
    _, _, height, width = runs[0].x.shape
    pending = list(schedule)
    for step in range(steps + 1):
        if step:
            for run in runs:
                run.x = painted.step(run, angle) if painted else run.model(run.x, angle=angle, generator=run.generator)
            if painted:
                painted.paint_until(step)
        while pending and pending[0].step == step:
            event = pending.pop(0)
            noise = None
            if event.kind == "noise":  # drawn once per event: every grid model gets the same noise
                noise = torch.rand(channels, height, width, generator=damage_gen) * 2 - 1
            for i, run in enumerate(runs):
                if meter:
                    meter.before_damage(step, i, run.x, event, run.style)
                run.x = apply_damage(event, run.x, run.seed_state, noise)
        if meter:
            for i, run in enumerate(runs):
                meter.measure(step, i, run.x)
        yield step
    if meter:
        meter.finish(steps)


def _unique(labels: list[str]) -> list[str]:
    """Grid labels must tell panels apart: number repeated names."""
    seen: dict[str, int] = {}
    result = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        result.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return result
