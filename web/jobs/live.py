"""Live bundles: the weights of a job still training, exported now and then so the page can run
them while it learns.

    <job dir>/live/checkpoint.pt     the current weights (nca.train's `snapshot`), overwritten each time
    <job dir>/live/<iteration>/      a model bundle of them (exporter.export), the newest KEEP kept

The worker writes them (LiveWriter); the server serves the files of a version it lists (live_file).
A version stays as it was written, so the page never mixes one version's model.json with another's
shaders. Nothing here imports torch until a bundle is written.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ..store import BUNDLE_FILE_RE

LIVE_DIR = "live"
KEEP = 3  # versions on disk: a page may still be fetching the one before the newest
THUMBNAIL_STEPS = 64  # the page runs the model itself; the thumbnail only has to exist


def versions(job_dir: Path) -> list[int]:
    """The iterations of the complete live bundles of a job, oldest first."""
    try:
        found = [int(d.name) for d in (job_dir / LIVE_DIR).iterdir()
                 if d.name.isdigit() and (d / "model.json").is_file()]
    except OSError:
        return []
    return sorted(found)


def live_file(job_dir: Path, iteration: int, name: str) -> Path | None:
    """A servable file of one live version, or None; `name` is not trusted."""
    if not BUNDLE_FILE_RE.match(name) or iteration < 0:
        return None
    path = job_dir / LIVE_DIR / str(iteration) / name
    return path if path.is_file() else None


class LiveWriter:
    """Decides when a new version is due and writes it, without touching the run's random streams."""

    def __init__(self, job_dir: Path, every: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.dir = job_dir / LIVE_DIR
        self.every, self.seconds, self.clock = every, seconds, clock
        self.last_iteration: int | None = None  # the first iteration seen counts as the start
        self.last_time = clock()

    def due(self, iteration: int) -> bool:
        """Every `every` iterations or `seconds` seconds, whichever comes later (every = 0: never)."""
        if self.every <= 0:
            return False
        if self.last_iteration is None:
            self.last_iteration = iteration - 1
        return iteration - self.last_iteration >= self.every and self.clock() - self.last_time >= self.seconds

    def write(self, snapshot: Callable[[Path], None], iteration: int) -> float:
        """Export the current weights as version `iteration`; returns the seconds it took."""
        import numpy as np
        import torch

        from exporter import export

        t0 = time.perf_counter()
        self.dir.mkdir(parents=True, exist_ok=True)
        checkpoint = self.dir / "checkpoint.pt"
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            with torch.random.fork_rng(devices=[]):  # the export builds a model: keep training's streams as they were
                snapshot(checkpoint)
                export(checkpoint, self.dir, name=str(iteration), thumbnail_steps=THUMBNAIL_STEPS, force=True)
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
        for old in versions(self.dir.parent)[:-KEEP]:
            shutil.rmtree(self.dir / str(old), ignore_errors=True)
        self.last_iteration, self.last_time = iteration, self.clock()
        return time.perf_counter() - t0


def remove(job_dir: Path) -> None:
    """The job's final model is exported: its live versions are of no more use."""
    with contextlib.suppress(OSError):
        shutil.rmtree(job_dir / LIVE_DIR)
