"""How long a running job still needs, phase by phase: the remaining time the page shows.

Training's own ETA counts iterations only. After the last one come the probes (nca/selection.py),
the closing rollout preview and check (nca/evaluate.check) and the export with its thumbnail
rollout: tens of seconds that an "ETA 0s" hides. Their cost is estimated from the run's own speed,
as seconds per FLOP: a training iteration rolls batch x grid^2 cells out for ~steps NCA updates and
scores them with VGG, forward and backward (about three forwards' worth); the later phases are NCA
rollouts and a few VGG forwards. Measured figures replace the estimates once a phase has run: a
probe, an export (from the live bundles), the first iteration's compile.

    left = Remaining(model_cfg, train_cfg)
    left.iteration_done(iteration, seconds)     # per progress record
    left.phase_started("probing")               # per phase; "training" again ends a probe
    left.parts(iteration)                       # {"training": s, "probing": s, "evaluating": s, "exporting": s}
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from exporter.thumbnail import GRID as THUMBNAIL_GRID
from exporter.thumbnail import STEPS as THUMBNAIL_STEPS
from nca.config import ModelConfig, TrainConfig
from nca.evaluate import CHECK_SAMPLES, COMPILE_FROM
from nca.previews import ROLLOUT_STEPS
from nca.probe import PROBE_STEPS

CHECK_SIZE = 128  # the grid nca.evaluate.check rolls out on (evaluate's default size)
PROBE_SAMPLES = 4  # nca.probe.probe_losses' default
BACKWARD = 2.0  # a backward pass costs about two forward passes
# Forward FLOPs per input pixel of the VGG-19 conv stack up to relu5_1 (9 * c_in * c_out * 2 per layer,
# each block at a quarter of the pixels of the one before).
VGG_FLOPS = 2 * 9 * (3 * 64 + 64 * 64 + (64 * 128 + 128 * 128) / 4 + (128 * 256 + 3 * 256 * 256) / 16
                     + (256 * 512 + 3 * 512 * 512) / 64 + 512 * 512 / 256)
COMPILE_GUESS_S = 20.0  # compiling the check's step when training did not compile (so measured nothing)
EXPORT_BASE_S = 1.0  # packing, rendering and writing a bundle, before any export was measured
EXIT_S = 1.0  # the worker process ending (torch's teardown) before the job is finished
TRAINING_PHASES = ("starting", "loading", "compiling", "training", "probing", "retrying")
SMOOTHING = 0.2  # weight of the newest iteration in the running mean of seconds per iteration


class Remaining:
    def __init__(self, model_cfg: ModelConfig, cfg: TrainConfig, live_thumbnail_steps: int = 0,
                 clock: Callable[[], float] = time.monotonic, device_type: str = "cpu"):
        self.cfg = cfg
        c, h = model_cfg.channels, model_cfg.hidden
        self.nca_flops = 2 * (9 * c * h + h * c)  # per cell update: the fused 3x3 conv C -> hidden, then hidden -> C
        # On the CPU the preview, the check and the thumbnail update only the cells that fire (nca.rollouts),
        # about fire_rate of the work; the probe runs training's dense step.
        self.rollout_flops = self.nca_flops * (model_cfg.fire_rate if device_type == "cpu" else 1.0)
        self.clock = clock
        self.live_thumbnail_steps = live_thumbnail_steps
        self.it_s: float | None = None  # running mean of seconds per iteration (without the first)
        self.first_s: float | None = None  # the first iteration: compile and warm-up
        self.probe_s: float | None = None  # measured: one probe
        self.export_s: float | None = None  # measured: one live export
        self._probe_started: float | None = None
        self._seen = 0

    # ---- what the worker tells it --------------------------------------------------------
    def iteration_done(self, iteration: int, seconds: float | None) -> None:
        if seconds is None or not math.isfinite(seconds) or seconds <= 0:
            return
        self._seen += 1
        if self._seen == 1:
            self.first_s = seconds
        elif self.it_s is None:
            self.it_s = seconds
        else:
            self.it_s += SMOOTHING * (seconds - self.it_s)

    def phase_started(self, phase: str) -> None:
        now = self.clock()
        if phase == "probing":
            self._probe_started = now
        elif self._probe_started is not None:
            self.probe_s = now - self._probe_started
            self._probe_started = None

    def export_done(self, seconds: float) -> None:
        self.export_s = seconds

    # ---- estimates -----------------------------------------------------------------------
    @property
    def flop_s(self) -> float | None:
        """Seconds per FLOP, from the iteration time."""
        per_it = self.it_s or self.first_s
        if per_it is None:
            return None
        c = self.cfg
        steps = (c.steps_min + c.steps_max) / 2
        grad = min(1.0, c.grad_steps / steps) if c.grad_steps else 1.0
        nca = steps * self.nca_flops * (1 + BACKWARD * grad)
        return per_it / (c.batch * c.grid ** 2 * (nca + VGG_FLOPS * (1 + BACKWARD)))

    def _seconds(self, cells: float, steps: float, vgg_passes: float = 0.0, step_flops: float | None = None) -> float | None:
        """Forward work: `cells` cells stepped `steps` times (`step_flops` each, a dense update unless told),
        and scored by VGG `vgg_passes` times."""
        flop = self.flop_s
        step_flops = self.nca_flops if step_flops is None else step_flops
        return None if flop is None else cells * (steps * step_flops + vgg_passes * VGG_FLOPS) * flop

    def probes_left(self, iteration: int) -> int:
        """Probes after `iteration` (CheckpointSelection.due: multiples of probe_every from probe_from on, and the last)."""
        c = self.cfg
        if not c.probe_every:
            return 0
        first = max(iteration + 1, math.ceil(c.probe_from * c.iterations))
        if first > c.iterations:
            return 0
        n = c.iterations // c.probe_every - (first - 1) // c.probe_every
        return n + (1 if c.iterations % c.probe_every else 0)

    def probe_cost(self) -> float | None:
        if self.probe_s is not None:
            return self.probe_s
        return self._seconds(PROBE_SAMPLES * self.cfg.grid ** 2, max(PROBE_STEPS), len(PROBE_STEPS))

    def evaluating_cost(self) -> float | None:
        """The rollout preview (nca.previews) and the closing check (nca.evaluate.check)."""
        c = self.cfg
        seconds = self._seconds((2 * c.grid) ** 2, ROLLOUT_STEPS, step_flops=self.rollout_flops)
        if seconds is None or not c.check_steps:
            return seconds
        cells = CHECK_SAMPLES * CHECK_SIZE ** 2
        # + the target and flat image
        seconds += self._seconds(cells, max(c.check_steps), len(c.check_steps) + 2, self.rollout_flops)
        if cells * max(c.check_steps) >= COMPILE_FROM:  # the check compiles its step
            trained_compiled = self.first_s is not None and self.it_s is not None and c.iterations >= 100
            seconds += max(0.0, self.first_s - self.it_s) if trained_compiled else COMPILE_GUESS_S
        return seconds

    def exporting_cost(self) -> float | None:
        rollout = self._seconds(THUMBNAIL_GRID ** 2, 1, step_flops=self.rollout_flops)
        if rollout is None:
            return None
        if self.export_s is not None:  # a live export, with a shorter thumbnail rollout
            return self.export_s + max(0, THUMBNAIL_STEPS - self.live_thumbnail_steps) * rollout + EXIT_S
        return EXPORT_BASE_S + THUMBNAIL_STEPS * rollout + EXIT_S

    def parts(self, iteration: int, phase: str = "training") -> dict[str, float]:
        """Seconds left in each phase still to come, from `phase` on; those not estimable yet are left out."""
        per_it = self.it_s or self.first_s
        probes = self.probes_left(iteration) + (phase == "probing")  # the probe under way counts in full
        estimates = {
            "training": (self.cfg.iterations - iteration) * per_it if per_it is not None else None,
            "probing": probes * cost if probes and (cost := self.probe_cost()) is not None else None,
            "evaluating": self.evaluating_cost(),
            "exporting": self.exporting_cost(),
        }
        ahead = {"evaluating": ("evaluating", "exporting"), "exporting": ("exporting",)}.get(
            phase, tuple(estimates) if phase in TRAINING_PHASES else ())
        return {name: round(estimates[name], 1) for name in ahead if estimates[name] is not None}

    @staticmethod
    def total(parts: dict[str, float]) -> float | None:
        return round(sum(parts.values()), 1) if parts else None
