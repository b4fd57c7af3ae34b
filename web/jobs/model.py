"""A training job's state (what job.json holds and the API shows) and the statuses it moves through.

    queued -> running -> finished | failed | cancelled | interrupted
    cancelled, interrupted and failed jobs can be queued again (resumed from their checkpoint)
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Any

QUEUED, RUNNING = "queued", "running"
FINISHED, FAILED, CANCELLED, INTERRUPTED = "finished", "failed", "cancelled", "interrupted"
STATUSES = (QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED)
ACTIVE = (QUEUED, RUNNING)
TERMINAL = (FINISHED, FAILED, CANCELLED, INTERRUPTED)
RESUMABLE = (CANCELLED, INTERRUPTED, FAILED)
# What a running job is doing, in order; None once it is not running. "retrying": the verdict was not
# good and a second try trains on or starts again from another base (nca/retry.py). "cancelling": asked to stop,
# the worker has not yet (it stops between iterations; a probe or the closing check runs on first).
PHASES = ("starting", "loading", "compiling", "training", "probing", "evaluating", "retrying", "exporting",
          "cancelling")
CANCELLING = "cancelling"
INTERRUPTED_ERROR = "the server stopped while this job was running; resume it to continue"

JOB_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def valid_job_id(job_id: str) -> bool:
    return bool(JOB_ID_RE.match(job_id))


def now_iso() -> str:
    """Local time with milliseconds: jobs created within a second still sort in order."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


@dataclass
class Job:
    id: str
    name: str
    preset: str
    options: dict[str, Any] = field(default_factory=dict)
    status: str = QUEUED  # one of STATUSES
    created: str = field(default_factory=now_iso)
    started: str | None = None
    ended: str | None = None
    iteration: int = 0
    iterations: int | None = None
    loss: float | None = None
    it_per_s: float | None = None
    eta_s: float | None = None  # training iterations only
    remaining: dict[str, float] = field(default_factory=dict)  # seconds left per phase to come (web/jobs/remaining.py)
    preview_iteration: int | None = None
    live_iteration: int | None = None  # the newest live bundle (web/jobs/live.py), while training
    phase: str | None = None  # one of PHASES while running
    start: int = 1  # which try trains: 2, 3, 4 as the verdict sends it again (nca/retry.py); live versions count on
    error: str | None = None
    model_id: str | None = None
    verdict: str | None = None  # of the finished model (nca/verdict.py): good, drifts, poor or failed
    stopped_early: bool = False  # the kept model's run ended at a probe that held, before its last iteration
    runs: int = 0  # how many times a worker was started (1 + resumes)
    upload_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def copy(self) -> Job:
        """A snapshot for callers outside the manager's lock."""
        return Job.from_dict(self.to_dict())


class JobError(Exception):
    """A request that cannot be honoured in the job's current state (HTTP 409)."""
