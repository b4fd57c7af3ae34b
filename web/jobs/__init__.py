"""Training jobs: persisted on disk, run one at a time in a worker process, observed as events.

Layout of `<data>/jobs/<id>/` (id = 32 hex digits from uuid4, never from the request):
  job.json     the job's state (see `model.Job`); rewritten atomically
  upload       the uploaded style image, byte for byte (validated before it was written)
  run/         the training run directory (checkpoint, metrics, previews) from nca.train
  live/        bundles of the weights while it trains, the newest few (live.py)
  worker.log   whatever the worker printed, and tracebacks

  model.py     Job, its statuses and phases
  events.py    the numbered, bounded per-job event log that Server-Sent Event streams read
  protocol.py  the spec a worker process gets and the messages it sends back (web.worker)
  manager.py   JobManager: the queue, the worker processes, restart reconciliation, commands
  live.py      live bundles: when the worker exports the current weights, which files are served
  remaining.py the remaining time of a running job, phase by phase (the worker estimates it)

A job that was running when the server died is "interrupted" on the next start and can be
resumed from its last checkpoint.
"""

from __future__ import annotations

from .model import ACTIVE, PHASES, RESUMABLE, STATUSES, TERMINAL, Job, JobError, valid_job_id

__all__ = ["ACTIVE", "PHASES", "RESUMABLE", "STATUSES", "TERMINAL", "Job", "JobError", "JobManager", "valid_job_id"]


def __getattr__(name: str):
    # Lazy: the manager imports training (torch), and a worker process importing the protocol must not.
    if name == "JobManager":
        from .manager import JobManager

        return JobManager
    raise AttributeError(f"module 'web.jobs' has no attribute {name!r}")
