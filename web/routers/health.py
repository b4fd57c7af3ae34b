"""/api/health: liveness and a few counts."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import AppSettings, Manager, Store
from ..jobs.model import QUEUED, RUNNING
from ..schemas import Health
from ..version import VERSION

router = APIRouter(tags=["meta"])


@router.get("/api/health", response_model=Health, summary="Liveness and a few counts")
def health(settings: AppSettings, store: Store, manager: Manager) -> dict:
    all_jobs = manager.list()
    return {
        "status": "ok",
        "version": VERSION,
        "models": len(store.list()),
        "jobs_running": sum(j.status == RUNNING for j in all_jobs),
        "jobs_queued": sum(j.status == QUEUED for j in all_jobs),
        "presets": list(settings.presets),
        "max_upload_bytes": settings.max_upload_bytes,
    }
