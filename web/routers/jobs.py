"""/api/jobs: upload a style image and train a model from it; progress as Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, HTTPException, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from nca.bases import base_shape
from nca.config import BASES, DEFAULT_PRESET, PRESETS, ConfigError, field_info
from nca.config import preset as get_preset
from nca.image import ImageError, load_style

from ..deps import AppSettings, Manager
from ..files import file_or_404
from ..jobs import RESUMABLE, TERMINAL, JobError
from ..jobs import Job as JobState
from ..jobs.manager import JobManager
from ..schemas import ErrorResponse, Job
from ..uploads import read_upload

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

NOT_FOUND = {404: {"model": ErrorResponse, "description": "no job with this id"}}
CONFLICT = {409: {"model": ErrorResponse, "description": "not possible in the job's current state"}}
MAX_NAME = 64
# Control, format (bidi overrides, zero-width), private-use, unassigned and line/paragraph separators:
# each could hide or spoof a name in the gallery.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
PresetName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]
# The options the page offers; their bounds, choices and help come from the config's vocabulary.
ITERATIONS, LOSS, INIT = field_info("iterations"), field_info("loss"), field_info("init")
LossName = Literal[LOSS["choices"]]  # type: ignore[valid-type]
InitName = Literal[INIT["choices"]]  # type: ignore[valid-type]


def _get(manager: JobManager, job_id: str) -> JobState:
    job = manager.get(job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return job


def job_out(manager: JobManager, job: JobState | dict) -> dict:
    """The API view of a job (or of a job snapshot from the event log): state plus derived fields."""
    data = dict(job) if isinstance(job, dict) else job.to_dict()
    job_id, status = data["id"], data["status"]
    data["preview_url"] = (f"/api/jobs/{job_id}/preview.png?i={data.get('preview_iteration') or 0}"
                           if manager.preview_path(job_id) else None)
    data["style_url"] = f"/api/jobs/{job_id}/style.png" if manager.style_path(job_id) else None
    data["live_url"] = manager.live_url(job_id, data.get("live_iteration"))
    remaining = data.get("remaining") or {}
    data["remaining_s"] = round(sum(remaining.values()), 1) if remaining else None
    data["queue_position"] = manager.queue_position(job_id) if status == "queued" else None
    data["resumable"] = status in RESUMABLE
    return data


def _check_image(data: bytes, style_size: int) -> None:
    """Fully decode the upload here, so a bad file is refused now rather than failing a job later."""
    try:
        load_style(data, style_size)
    except ImageError as exc:
        message = str(exc)
        if "too large" in message:
            raise HTTPException(413, message) from None  # decompression bombs and giant images
        if "not an image" in message:
            raise HTTPException(415, message) from None
        raise HTTPException(400, message) from None


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a model's display name, or None when it can."""
    if not 1 <= len(name) <= MAX_NAME:
        return f"name must be 1-{MAX_NAME} characters"
    if any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in name):
        return "name must not contain control or invisible formatting characters"
    if not any(not ch.isspace() for ch in name):
        return "name must contain a visible character"
    return None


def _default_name(filename: str | None) -> str:
    stem = PurePath(filename or "").stem if filename else ""
    stem = "".join(ch for ch in stem if unicodedata.category(ch) not in HIDDEN_CATEGORIES).strip()[:MAX_NAME]
    return stem if name_problem(stem) is None else "untitled"


@router.post("", status_code=201, response_model=Job, summary="Upload a style image and queue a training job",
             responses={400: {"model": ErrorResponse, "description": "corrupt or unusable image"},
                        413: {"model": ErrorResponse, "description": "upload over the size limit, or a bomb"},
                        415: {"model": ErrorResponse, "description": "not an image"},
                        422: {"model": ErrorResponse, "description": "bad name or options, or over the iteration limit"},
                        429: {"model": ErrorResponse, "description": "the job queue is full"}})
def create_job(
    settings: AppSettings,
    manager: Manager,
    image: Annotated[UploadFile, File(description="style image (PNG, JPEG, WebP, ...)")],
    name: Annotated[str | None, Form(max_length=200, description="display name of the model")] = None,
    preset: Annotated[PresetName, Form(description="training preset")] = DEFAULT_PRESET,
    iterations: Annotated[int | None, Form(ge=ITERATIONS["low"], description=ITERATIONS["help"])] = None,
    loss: Annotated[LossName | None, Form(description=LOSS["help"])] = None,
    init: Annotated[InitName | None, Form(description=INIT["help"])] = None,
) -> dict:
    if preset not in settings.presets:
        raise HTTPException(422, f"preset {preset!r} is not offered here; choose one of {', '.join(settings.presets)}")
    name = (name or "").strip() or _default_name(image.filename)
    problem = name_problem(name)
    if problem:
        raise HTTPException(422, problem)
    options = {k: v for k, v in {"iterations": iterations, "loss": loss, "init": init}.items() if v is not None}
    try:
        model_cfg, train_cfg = get_preset(preset, **options)  # the same checks as `nca train` and nca.train()
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    if train_cfg.init in BASES and base_shape(train_cfg.init) != model_cfg:
        raise HTTPException(422, f"preset {preset} trains another model shape than the packaged start "
                                 f"{train_cfg.init}: start it from random")
    if train_cfg.iterations > settings.max_iterations:
        raise HTTPException(422, f"at most {settings.max_iterations} iterations per job here, "
                                 f"asked for {train_cfg.iterations}")
    if manager.active_count() >= settings.max_active_jobs:
        raise HTTPException(429, f"{settings.max_active_jobs} jobs are already queued or running; "
                                 "wait for one to finish or cancel one")
    data = read_upload(image, settings)
    _check_image(data, train_cfg.style_size)
    return job_out(manager, manager.submit(data, name, preset, options))


@router.get("", response_model=list[Job], summary="All jobs, newest first")
def list_jobs(manager: Manager) -> list[dict]:
    return [job_out(manager, j) for j in manager.list()]


@router.get("/{job_id}", response_model=Job, responses=NOT_FOUND, summary="One job")
def get_job(job_id: str, manager: Manager) -> dict:
    return job_out(manager, _get(manager, job_id))


@router.post("/{job_id}/cancel", response_model=Job, responses={**NOT_FOUND, **CONFLICT},
             summary="Cancel a queued job, or ask a running one to stop (it keeps its checkpoint)")
def cancel_job(job_id: str, manager: Manager) -> dict:
    return _transition(manager, job_id, "cancel")


@router.post("/{job_id}/resume", response_model=Job, responses={**NOT_FOUND, **CONFLICT},
             summary="Queue an interrupted, cancelled or failed job again, from its last checkpoint")
def resume_job(job_id: str, manager: Manager) -> dict:
    return _transition(manager, job_id, "resume")


def _transition(manager: JobManager, job_id: str, action: str) -> dict:
    """Cancel or resume: 404 for an unknown id, 409 when the job's state does not allow it."""
    _get(manager, job_id)
    try:
        return job_out(manager, getattr(manager, action)(job_id))
    except JobError as exc:
        raise HTTPException(409, str(exc)) from None


@router.delete("/{job_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT},
               summary="Delete a job that is not queued or running (its model, if any, stays)")
def delete_job(job_id: str, manager: Manager) -> Response:
    _get(manager, job_id)
    try:
        manager.delete(job_id)
    except JobError as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)


@router.get("/{job_id}/preview.png", responses=NOT_FOUND, response_class=FileResponse,
            summary="The latest training preview: pool samples while training, style beside a long rollout at the end")
def job_preview(job_id: str, manager: Manager) -> FileResponse:
    return file_or_404(manager.preview_path(job_id), "image/png", "no preview for this job (yet)",
                       {"Cache-Control": "no-store"})


@router.get("/{job_id}/style.png", responses=NOT_FOUND, response_class=FileResponse,
            summary="The style image as training sees it")
def job_style(job_id: str, manager: Manager) -> FileResponse:
    return file_or_404(manager.style_path(job_id), "image/png", "no style image for this job (yet)")


@router.get("/{job_id}/live/{iteration}/{filename}", responses=NOT_FOUND, response_class=FileResponse,
            summary="A file of a live bundle: the weights of a job still training, at that iteration",
            description="What the page runs while a job trains (`live_url` of the job, `live` events). "
                        "Only the newest few versions are kept; older ones, and all of them once the job "
                        "has finished, are 404.")
def job_live_file(job_id: str, iteration: str, filename: str, manager: Manager) -> FileResponse:
    number = int(iteration) if iteration.isdigit() and len(iteration) <= 9 else -1
    path = manager.live_path(job_id, number, filename)
    media = {".json": "application/json", ".frag": "text/plain; charset=utf-8", ".png": "image/png",
             ".pt": "application/octet-stream"}
    # A version never changes once written: the browser may keep it.
    return file_or_404(path, media[path.suffix] if path else "", "no such live bundle file",
                       {"Cache-Control": "private, max-age=3600, immutable"})


def _sse(seq: int | None, kind: str, data: dict) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/{job_id}/events", responses=NOT_FOUND, summary="Server-Sent Events: job, progress, preview, live",
            response_class=StreamingResponse,
            description="`job` events carry the whole job (first one at once, then on every status change); "
                        "`progress` events: iteration, iterations, loss, it_per_s, eta_s, lr, remaining (seconds "
                        "per phase still to come); `preview` events: iteration, url; `live` events: iteration, "
                        "url (a bundle of the weights training has now, for NCA.load). The stream ends after "
                        "the job reaches a final state. Reconnects resume after `Last-Event-ID`.")
async def job_events(job_id: str, request: Request, manager: Manager, settings: AppSettings,
                     last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    _get(manager, job_id)
    try:
        after = max(0, int(last_event_id)) if last_event_id else 0
    except ValueError:
        after = 0

    async def stream():
        nonlocal after
        yield "retry: 2000\n\n"
        if after == 0 or after > manager.last_seq(job_id):
            after = manager.last_seq(job_id)
            yield _sse(after, "job", job_out(manager, manager.get(job_id)))
        last_sent = time.monotonic()
        while True:
            events, dropped = manager.events_since(job_id, after)
            if dropped:
                yield _sse(None, "job", job_out(manager, manager.get(job_id)))
            for seq, kind, data in events:
                after = seq
                if kind == "job":
                    data = job_out(manager, data)
                yield _sse(seq, kind, data)
                last_sent = time.monotonic()
            job = manager.get(job_id)
            if job is None or (job.status in TERMINAL and not manager.events_since(job_id, after)[0]):
                yield "event: end\ndata: {}\n\n"
                return
            if await request.is_disconnected():
                return
            if time.monotonic() - last_sent > settings.sse_keepalive_seconds:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(settings.sse_poll_seconds)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
