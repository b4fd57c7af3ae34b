"""FastAPI dependencies of the routers: the objects `create_app` made for this app.

    def list_jobs(manager: Manager) -> ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .jobs.manager import JobManager
from .settings import Settings
from .store import ModelStore
from .videos import VideoRenderer


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> ModelStore:
    return request.app.state.store


def get_manager(request: Request) -> JobManager:
    return request.app.state.jobs


def get_videos(request: Request) -> VideoRenderer:
    return request.app.state.videos


AppSettings = Annotated[Settings, Depends(get_settings)]
Store = Annotated[ModelStore, Depends(get_store)]
Manager = Annotated[JobManager, Depends(get_manager)]
Videos = Annotated[VideoRenderer, Depends(get_videos)]
