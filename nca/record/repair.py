"""The repair figure of `nca record`: how many steps a damaged region takes to heal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..model import to_rgb
from .damage import Damage
from .errors import RecordError

RECOVERY_TOLERANCE = 0.10  # "recovered" = style measure within 10% of its pre-damage value
MIN_MEASURE_SIDE = 32  # VGG pools 4 times before relu5_1: 32 px leaves a 2x2 map
MEASURE_EVERY = 16  # steps between repair measurements: a VGG pass costs about 5 NCA steps



@dataclass
class RepairFigure:
    """How long one model took to heal one damage event."""

    model: str
    damage: str
    step: int  # when the damage happened
    steps: int | None  # steps until recovered; None = not recovered
    until: int  # last step it was watched (end of run, or the next damage)
    baseline: float  # the style measure just before the damage
    every: int = MEASURE_EVERY  # measurement cadence: `steps` is exact to this many steps
    note: str = ""  # why there is no figure, when it could not be measured

    @property
    def recovered(self) -> bool:
        return self.steps is not None

    def __str__(self) -> str:
        if self.note:
            return f"{self.model}: {self.damage}: not measured ({self.note})"
        if self.steps is None:
            return f"{self.model}: {self.damage}: not recovered by step {self.until}"
        return f"{self.model}: {self.damage}: recovered after {self.steps} steps (measured every {self.every})"


@dataclass
class _Watch:
    run: int
    damage: Damage
    box: tuple[int, int, int, int]
    loss: torch.nn.Module
    baseline: float


class RepairMeter:
    """The repair figure: how many steps the damaged region's style takes to come back.

    Measure: the Gram style loss (the training loss, nca.vgg) of the damaged region's crop
    against a reference: the style image the model was trained on when the checkpoint carries
    it, otherwise the *whole frame just before the damage*. The crop's loss just before the
    damage is the baseline (non-zero: a finite patch never matches the reference exactly), and
    the region counts as recovered at the first measurement within 10% of it. Comparing the
    region to its own past instead would give a baseline of exactly zero, and "within 10% of
    zero" never happens. For the same reason, with the frame as reference a region may not be
    the whole frame: `reset` is then measured on the central half-size patch.
    """

    def __init__(self, labels: Sequence[str], device: torch.device, every: int):
        from ..vgg import VGGFeatures, WeightsError  # deferred: VGG loads only when a figure is wanted

        self.labels = list(labels)
        try:
            self.vgg = VGGFeatures().to(device)
        except WeightsError as exc:
            raise RecordError(f"{exc} (or pass --no-repair to skip the repair figure)") from None
        self.every = every
        self.watches: list[_Watch] = []
        self.figures: list[RepairFigure] = []

    @staticmethod
    def measure_box(damage: Damage, height: int, width: int,
                    whole_ok: bool = False) -> tuple[int, int, int, int] | None:
        """The crop to measure; None when it would be the whole frame and that is not `whole_ok`,
        or when the frame is too small for VGG."""
        if min(height, width) < MIN_MEASURE_SIDE:
            return None
        if damage.kind == "reset" and not whole_ok:
            top, left, bottom, right = height // 4, width // 4, height - height // 4, width - width // 4
        else:
            top, left, bottom, right = damage.box(height, width)
        # Grow small regions to the minimum VGG can use, staying inside the frame.
        top, bottom = _widen(top, bottom, height)
        left, right = _widen(left, right, width)
        if (bottom - top) * (right - left) == height * width and not whole_ok:
            return None
        return top, left, bottom, right

    @torch.no_grad()
    def before_damage(self, step: int, index: int, x: torch.Tensor, damage: Damage,
                      style: torch.Tensor | None = None) -> None:
        """Call with the state just before `damage` hits model `index` (and its style image, if known)."""
        self._close(index, step)  # a new hit ends the watch on an unhealed older one
        h, w = x.shape[2], x.shape[3]
        box = self.measure_box(damage, h, w, whole_ok=style is not None)
        if box is None:
            note = f"the region covers the whole {w}x{h} frame; use a larger --size"
            if min(h, w) < MIN_MEASURE_SIDE:
                note = f"VGG needs a frame of at least {MIN_MEASURE_SIDE}x{MIN_MEASURE_SIDE}"
            self.figures.append(RepairFigure(self.labels[index], str(damage), step, None, step, float("nan"),
                                             self.every, note))
            return
        from ..vgg import StyleLoss

        rgb = to_rgb(x)
        loss = StyleLoss(self.vgg, rgb if style is None else style, kind="gram")
        self.watches.append(_Watch(index, damage, box, loss, float(loss(_crop(rgb, box)))))

    @torch.no_grad()
    def measure(self, step: int, index: int, x: torch.Tensor) -> None:
        for watch in [w for w in self.watches if w.run == index]:
            since = step - watch.damage.step
            if since <= 0 or since % self.every:
                continue
            value = float(watch.loss(_crop(to_rgb(x), watch.box)))
            if value <= (1.0 + RECOVERY_TOLERANCE) * watch.baseline:
                self._finish(watch, step, recovered=True)

    def finish(self, step: int) -> None:
        for index in {w.run for w in self.watches}:
            self._close(index, step)

    def _close(self, index: int, step: int) -> None:
        for watch in [w for w in self.watches if w.run == index]:
            self._finish(watch, step, recovered=False)

    def _finish(self, watch: _Watch, step: int, recovered: bool) -> None:
        self.watches.remove(watch)
        steps = step - watch.damage.step if recovered else None
        self.figures.append(RepairFigure(self.labels[watch.run], str(watch.damage), watch.damage.step,
                                         steps, step, watch.baseline, self.every))


def _widen(lo: int, hi: int, limit: int) -> tuple[int, int]:
    need = MIN_MEASURE_SIDE - (hi - lo)
    if need <= 0:
        return lo, hi
    lo = max(0, lo - (need + 1) // 2)
    hi = min(limit, lo + MIN_MEASURE_SIDE)
    return hi - MIN_MEASURE_SIDE, hi


def _crop(rgb: torch.Tensor, box: tuple[int, int, int, int]) -> torch.Tensor:
    top, left, bottom, right = box
    return rgb[:, :, top:bottom, left:right]
