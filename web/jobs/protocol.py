"""What passes between the job manager and a worker process (web.worker), defined once for both.

    spec      WorkerSpec, server -> worker: the job to run (the Process's argument)
    messages  dicts on a multiprocessing Queue, worker -> server, one constructor per kind below
    stop      a multiprocessing Event the server sets to cancel

Messages stay plain dicts (TypedDicts) so they pickle without importing anything, and every
number in them is finite or None: progress goes on to the page as JSON.
Exactly one of finished / cancelled / failed is the last message, unless the process dies.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypedDict

ENDINGS = ("finished", "cancelled", "failed")


class WorkerSpec(TypedDict):
    job_id: str
    job_dir: str  # <data>/jobs/<id>: upload in, run/ and worker.log out
    models_dir: str  # the bundle goes to <models_dir>/<model_id>/
    model_id: str
    name: str  # the model's display name
    preset: str
    options: dict[str, Any]
    resume: bool  # continue the run's checkpoint, if it has one
    device: str
    threads: int  # torch CPU threads
    server_pid: int  # the worker exits when this process is gone
    live_every: int  # a live bundle every this many iterations (0: none) ...
    live_seconds: float  # ... and at least this many seconds apart (web/jobs/live.py)


class Started(TypedDict):
    type: Literal["started"]
    resume: bool


class Progress(TypedDict):
    type: Literal["progress"]
    iteration: int
    iterations: int
    loss: float | None
    it_per_s: float | None
    eta_s: float | None
    lr: float | None
    remaining: dict[str, float]  # seconds left per phase still to come (web/jobs/remaining.py)


class Preview(TypedDict):
    type: Literal["preview"]
    iteration: int  # a new preview image is in the run directory


class Phase(TypedDict):
    type: Literal["phase"]
    phase: str  # e.g. "evaluating"
    remaining: dict[str, float]


class Live(TypedDict):
    type: Literal["live"]
    iteration: int  # a live bundle of the weights at this iteration is in <job dir>/live/<iteration>/


class Exporting(TypedDict):
    type: Literal["exporting"]
    remaining: dict[str, float]


class Finished(TypedDict):
    type: Literal["finished"]
    model_id: str
    iterations: int
    final_loss: float | None
    wall_time: float | None
    verdict: str | None
    stopped_early: bool


class Cancelled(TypedDict):
    type: Literal["cancelled"]
    iterations: int


class Failed(TypedDict):
    type: Literal["failed"]
    error: str  # one line, for the page


Message = Started | Progress | Preview | Phase | Live | Exporting | Finished | Cancelled | Failed
Ending = Finished | Cancelled | Failed


def finite(value: Any) -> float | None:
    """A float the page can read as JSON: None for NaN, infinities and non-numbers."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def started(resume: bool) -> Started:
    return {"type": "started", "resume": resume}


def progress(iteration: int, iterations: int, loss: Any, it_per_s: Any, eta_s: Any, lr: Any,
             remaining: dict[str, Any] | None = None) -> Progress:
    return {"type": "progress", "iteration": int(iteration), "iterations": int(iterations), "loss": finite(loss),
            "it_per_s": finite(it_per_s), "eta_s": finite(eta_s), "lr": finite(lr), "remaining": seconds(remaining)}


def preview(iteration: int) -> Preview:
    return {"type": "preview", "iteration": int(iteration)}


def phase(name: str, remaining: dict[str, Any] | None = None) -> Phase:
    return {"type": "phase", "phase": str(name), "remaining": seconds(remaining)}


def live(iteration: int) -> Live:
    return {"type": "live", "iteration": int(iteration)}


def seconds(parts: dict[str, Any] | None) -> dict[str, float]:
    """Per-phase seconds with only finite values (JSON for the page)."""
    return {str(k): f for k, v in (parts or {}).items() if (f := finite(v)) is not None}


def exporting(remaining: dict[str, Any] | None = None) -> Exporting:
    return {"type": "exporting", "remaining": seconds(remaining)}


def finished(model_id: str, iterations: int, final_loss: Any, wall_time: Any, verdict: str | None,
             stopped_early: bool = False) -> Finished:
    return {"type": "finished", "model_id": model_id, "iterations": iterations, "final_loss": finite(final_loss),
            "wall_time": finite(wall_time), "verdict": verdict, "stopped_early": stopped_early}


def cancelled(iterations: int) -> Cancelled:
    return {"type": "cancelled", "iterations": iterations}


def failed(error: str) -> Failed:
    return {"type": "failed", "error": error}
