"""The job manager: a queue of jobs, one thread that runs each in a `spawn`ed worker process, and
the commands (submit, cancel, resume, delete). Worker messages become job state and events."""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import queue
import shutil
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from nca.files import write_atomic
from nca.rundir import run_progress

from ..settings import Settings
from ..store import read_json
from . import live, protocol
from .events import Event, EventLog
from .model import (
    ACTIVE,
    CANCELLED,
    CANCELLING,
    FAILED,
    FINISHED,
    INTERRUPTED,
    INTERRUPTED_ERROR,
    QUEUED,
    RESUMABLE,
    RUNNING,
    Job,
    JobError,
    now_iso,
    valid_job_id,
)

log = logging.getLogger("nca.studio.jobs")

SAVE_EVERY = 2.0  # seconds between job.json writes while progress streams in


class JobManager:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.jobs_dir = settings.jobs_dir
        self.models_dir = settings.models_dir
        self.events = EventLog()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._running_id: str | None = None
        self._stop_event = None  # the running worker's multiprocessing Event
        self._cancel_requested: set[str] = set()
        self._last_save = 0.0
        self.load()

    # ---- persistence -------------------------------------------------------------------
    def load(self) -> None:
        """Read every job.json; running jobs from a previous server life become interrupted."""
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        found: list[Job] = []
        for d in self.jobs_dir.iterdir():
            if not (d.is_dir() and valid_job_id(d.name)):
                continue
            try:
                job = Job.from_dict(json.loads((d / "job.json").read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping job %s: unreadable job.json (%s)", d.name, exc)
                continue
            if job.id != d.name:
                continue
            if job.status in (RUNNING, INTERRUPTED):
                self._reconcile(job)
            found.append(job)
        found.sort(key=lambda j: (j.created, j.id))
        with self._lock:
            for job in found:
                self._jobs[job.id] = job
                self.events.open(job.id)
                if job.status == QUEUED:
                    self._queue.append(job.id)

    def _reconcile(self, job: Job) -> None:
        """A job the last server left running: its run may have finished (and even been exported)
        after that server lost track of it, or it stopped part-way and can be resumed."""
        progress = run_progress(self.jobs_dir / job.id / "run")
        if progress is not None:
            job.iteration = progress.done
            job.iterations = job.iterations or progress.asked
        bundle_done = (self.models_dir / job.id / "model.json").is_file()
        if progress is not None and bundle_done and progress.over(job.options.get("iterations")):
            job.status, job.model_id, job.error = FINISHED, job.id, None
            info = read_json(self.models_dir / job.id / "model.json") or {}
            job.verdict = (info.get("quality") or {}).get("verdict")
            job.stopped_early = progress.stopped_early
        else:
            job.status, job.error = INTERRUPTED, INTERRUPTED_ERROR
        job.phase, job.eta_s, job.remaining = None, None, {}
        job.ended = job.ended or now_iso()
        self._save(job)

    def _save(self, job: Job) -> None:
        path = self.jobs_dir / job.id / "job.json"
        write_atomic(path, json.dumps(job.to_dict(), indent=2) + "\n")

    def _changed(self, job: Job) -> None:
        """Under the lock: tell the streams (a "job" event carries the whole job) and save."""
        self.events.append(job.id, "job", job.to_dict())
        self._save(job)

    # ---- queries -----------------------------------------------------------------------
    def events_since(self, job_id: str, after: int) -> tuple[list[Event], bool]:
        return self.events.since(job_id, after)

    def last_seq(self, job_id: str) -> int:
        return self.events.last_seq(job_id)

    def get(self, job_id: str) -> Job | None:
        if not valid_job_id(job_id):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
            return job.copy() if job else None

    def list(self) -> list[Job]:
        with self._lock:
            jobs = [j.copy() for j in self._jobs.values()]
        jobs.sort(key=lambda j: (j.created, j.id), reverse=True)
        return jobs

    def active_count(self) -> int:
        with self._lock:
            return sum(j.status in ACTIVE for j in self._jobs.values())

    def queue_position(self, job_id: str) -> int | None:
        with self._lock:
            try:
                return list(self._queue).index(job_id) + 1  # 1 = next to run
            except ValueError:
                return None

    def preview_path(self, job_id: str) -> Path | None:
        if not valid_job_id(job_id) or self.get(job_id) is None:
            return None
        # Pool samples during training (a second try's in run/tries/<its name>/); at the end, the style
        # beside a long rollout of the model kept (nca/retry.py makes it the newest).
        run = self.jobs_dir / job_id / "run"
        found = [p for d in (run, *run.glob("tries/*")) for p in (d / "preview_pool.png", d / "preview_rollout.png")
                 if p.is_file()]
        return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None

    def style_path(self, job_id: str) -> Path | None:
        if not valid_job_id(job_id) or self.get(job_id) is None:
            return None
        path = self.jobs_dir / job_id / "run" / "style.png"
        return path if path.is_file() else None

    def live_path(self, job_id: str, iteration: int, name: str) -> Path | None:
        """A file of one of the job's live bundles (web/jobs/live.py), or None; no argument is trusted."""
        if not valid_job_id(job_id) or self.get(job_id) is None:
            return None
        return live.live_file(self.jobs_dir / job_id, iteration, name)

    def live_url(self, job_id: str, iteration: int | None) -> str | None:
        """The directory URL of a live bundle (what NCA.load takes), while its files are on disk."""
        if iteration is None or self.live_path(job_id, iteration, "model.json") is None:
            return None
        return f"/api/jobs/{job_id}/live/{iteration}/"

    # ---- commands ----------------------------------------------------------------------
    def submit(self, image: bytes, name: str, preset: str, options: dict[str, Any]) -> Job:
        job = Job(id=uuid.uuid4().hex, name=name, preset=preset, options=options, upload_bytes=len(image))
        job_dir = self.jobs_dir / job.id
        job_dir.mkdir(parents=True)
        (job_dir / "upload").write_bytes(image)
        with self._lock:
            self._jobs[job.id] = job
            self.events.open(job.id)
            self._queue.append(job.id)
            self._changed(job)
            self._wake.notify_all()
            return job.copy()

    def cancel(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs[job_id]
            if job.status == QUEUED:
                self._queue.remove(job_id)
                job.status, job.ended = CANCELLED, now_iso()
                self._changed(job)
            elif job.status == RUNNING:
                self._cancel_requested.add(job_id)
                if self._running_id == job_id and self._stop_event is not None:
                    self._stop_event.set()
                if job.phase != CANCELLING:  # shown at once; the worker stops at its next iteration
                    job.phase, job.remaining = CANCELLING, {}
                    self._changed(job)
            else:
                raise JobError(f"job is {job.status}; only queued or running jobs can be cancelled")
            return job.copy()

    def resume(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs[job_id]
            if job.status not in RESUMABLE:
                raise JobError(f"job is {job.status}; only {', '.join(RESUMABLE)} jobs can be resumed")
            job.status, job.error, job.ended, job.phase = QUEUED, None, None, None
            self._queue.append(job_id)
            self._changed(job)
            self._wake.notify_all()
            return job.copy()

    def delete(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.status in ACTIVE:
                raise JobError(f"job is {job.status}; cancel it before deleting it")
            del self._jobs[job_id]
            self.events.close(job_id)
        shutil.rmtree(self.jobs_dir / job_id, ignore_errors=True)

    # ---- the manager thread ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="nca-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the running worker to checkpoint and stop; its job becomes interrupted."""
        with self._lock:
            self._stopping = True
            if self._stop_event is not None:
                self._stop_event.set()
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._wake.wait(1.0)
                if self._stopping:
                    return
                job_id = self._queue.popleft()
                job = self._jobs.get(job_id)
                if job is None or job.status != QUEUED:
                    continue
            try:
                self._run(job)
            except Exception:  # the manager must outlive any job
                log.exception("job %s: manager error", job.id)
                with self._lock:
                    if job.status == RUNNING:
                        job.status, job.error, job.ended, job.phase = FAILED, "internal error in the job manager", now_iso(), None
                        self._changed(job)

    def _worker_target(self):
        module, _, name = self.settings.worker.partition(":")
        return getattr(importlib.import_module(module), name or "main")

    def _run(self, job: Job) -> None:
        ctx = multiprocessing.get_context("spawn")
        messages = ctx.Queue()
        stop = ctx.Event()
        spec = protocol.WorkerSpec(
            job_id=job.id, job_dir=str(self.jobs_dir / job.id), models_dir=str(self.models_dir),
            model_id=job.id, name=job.name, preset=job.preset, options=dict(job.options),
            resume=job.runs > 0, device=self.settings.device, threads=self.settings.worker_threads,
            server_pid=os.getpid(), live_every=self.settings.live_every_iterations,
            live_seconds=self.settings.live_every_seconds,
        )
        with self._lock:
            job.status, job.phase, job.started, job.ended, job.error = RUNNING, "starting", now_iso(), None, None
            job.runs += 1
            job.eta_s = job.it_per_s = None
            job.remaining = {}
            self._running_id, self._stop_event = job.id, stop
            if job.id in self._cancel_requested or self._stopping:
                stop.set()
            self._changed(job)
        process = ctx.Process(target=self._worker_target(), args=(spec, messages, stop), daemon=True,
                              name=f"nca-job-{job.id[:8]}")
        process.start()
        outcome: protocol.Ending | None = None
        try:
            while outcome is None:
                try:
                    message = messages.get(timeout=0.25)
                except queue.Empty:
                    if not process.is_alive():
                        # The worker's queue feeder flushes before exit: drain what is left.
                        try:
                            while outcome is None:
                                outcome = self._handle(job, messages.get(timeout=0.5))
                        except queue.Empty:
                            pass
                        break
                    continue
                outcome = self._handle(job, message)
            process.join(30)
            if process.is_alive():
                process.terminate()
                process.join(5)
        finally:
            with self._lock:
                self._finish(job, outcome, process.exitcode)
                self._running_id, self._stop_event = None, None
                self._cancel_requested.discard(job.id)
            messages.close()

    def _handle(self, job: Job, message: protocol.Message) -> protocol.Ending | None:
        """Apply one worker message; returns it when it ends the job."""
        kind = message.get("type")
        with self._lock:
            cancelling = job.id in self._cancel_requested  # "cancelling" stays until the job ends
            if kind == "started":
                job.phase = CANCELLING if cancelling else "loading"
                job.start = 1
                self._changed(job)
            elif kind == "progress":
                job.iteration = message["iteration"]
                job.iterations = message["iterations"]
                job.loss, job.it_per_s, job.eta_s = message["loss"], message["it_per_s"], message["eta_s"]
                job.remaining = message.get("remaining") or {}
                self.events.append(job.id, "progress", {k: v for k, v in message.items() if k != "type"})
                if job.phase != "training" and not cancelling:  # the first iteration ends "compiling"
                    job.phase = "training"
                    self._changed(job)
                elif time.monotonic() - self._last_save > SAVE_EVERY:
                    self._last_save = time.monotonic()
                    self._save(job)
            elif kind == "preview":
                job.preview_iteration = message["iteration"]
                self.events.append(job.id, "preview", {
                    "iteration": message["iteration"],
                    "url": f"/api/jobs/{job.id}/preview.png?i={message['iteration']}"})
            elif kind == "phase":
                job.phase = CANCELLING if cancelling else message["phase"]
                if message["phase"] == "retrying":
                    job.start += 1
                job.remaining = {} if cancelling else message.get("remaining") or {}
                self._changed(job)
            elif kind == "live":
                job.live_iteration = message["iteration"]
                self.events.append(job.id, "live", {
                    "iteration": message["iteration"], "url": self.live_url(job.id, message["iteration"])})
            elif kind == "exporting":
                job.phase = "exporting"
                job.eta_s = 0.0
                job.remaining = message.get("remaining") or {}
                self._changed(job)
            elif kind in protocol.ENDINGS:
                return message
        return None

    def _finish(self, job: Job, outcome: protocol.Ending | None, exitcode: int | None) -> None:
        job.phase, job.eta_s, job.remaining, job.ended = None, None, {}, now_iso()
        kind = outcome.get("type") if outcome else None
        if kind == "finished":
            job.status, job.model_id, job.verdict = FINISHED, outcome["model_id"], outcome.get("verdict")
            job.stopped_early = bool(outcome.get("stopped_early"))
            job.live_iteration = None  # the final model replaces the live view
            live.remove(self.jobs_dir / job.id)
            job.iteration = outcome.get("iterations") or job.iteration
            job.loss = outcome.get("final_loss", job.loss)
        elif kind == "cancelled":
            if self._stopping and job.id not in self._cancel_requested:
                job.status, job.error = INTERRUPTED, INTERRUPTED_ERROR
            else:
                job.status = CANCELLED
            job.iteration = outcome.get("iterations", job.iteration)
        elif kind == "failed":
            job.status, job.error = FAILED, outcome.get("error") or "training failed"
        elif self._stopping:
            job.status, job.error = INTERRUPTED, INTERRUPTED_ERROR
        else:
            job.status = FAILED
            job.error = f"the training process exited unexpectedly (exit code {exitcode}); see worker.log"
        self._changed(job)
