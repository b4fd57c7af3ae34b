"""The FastAPI app factory: API routers, bundle files, the page, static ES modules.

    uvicorn --factory web.app:default_app        # or: nca serve
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline

from nca.config import PRESET_HELP, PRESETS

from .jobs import JobManager
from .routers import jobs, models
from .schemas import Health
from .security import DOCS_ASSETS, SecurityMiddleware, allowed_hosts
from .settings import PACKAGE_DIR, Settings
from .store import ModelStore

log = logging.getLogger("nca.studio")

try:
    VERSION = version("nca-studio")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.1.0"


def preset_label(name: str) -> str:
    """What the page's preset menu shows: the name and how many iterations it trains."""
    return f"{name} \u00b7 {PRESETS[name][1].iterations} it"



class UploadSizeLimit:
    """Refuse a too-large upload from its Content-Length before the multipart parser reads it.
    Uploads without a length are still capped while the route reads them."""

    def __init__(self, app, limit: int, text: str):
        self.app = app
        self.limit = limit
        self.text = text

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/api/jobs":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                response = JSONResponse({"detail": f"the upload is larger than the {self.text} limit"}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = ModelStore(settings.models_dir, settings.bundled_models_dir)
    manager = JobManager(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.start_jobs:
            manager.start()
        yield
        await asyncio.to_thread(manager.stop)

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from an installed
    # package (at DOCS_ASSETS), not from a CDN, so the API page works offline.
    app = FastAPIOffline(
        title="NCA Studio",
        version=VERSION,
        description="Living textures: browse and run texture neural cellular automata, train new ones from images.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.jobs = manager
    app.include_router(models.router)
    app.include_router(models.files)
    app.include_router(jobs.router)
    # Multipart overhead on top of the image itself: a few KB; allow 1 MiB of slack.
    app.add_middleware(UploadSizeLimit, limit=settings.max_upload_bytes + 1024 * 1024, text=settings.upload_limit_text)
    # Added last, so it runs first: nothing else sees a request from a foreign page.
    app.add_middleware(SecurityMiddleware, hosts=allowed_hosts(settings.host, settings.allow_hosts),
                       token=settings.token, any_host=bool(settings.token) and settings.host in ("0.0.0.0", "::"))
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")

    templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")

    @app.get("/api/health", response_model=Health, tags=["meta"], summary="Liveness and a few counts")
    def health() -> dict:
        all_jobs = manager.list()
        return {
            "status": "ok",
            "version": VERSION,
            "models": len(store.list()),
            "jobs_running": sum(j.status == "running" for j in all_jobs),
            "jobs_queued": sum(j.status == "queued" for j in all_jobs),
            "presets": list(settings.presets),
            "max_upload_bytes": settings.max_upload_bytes,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        presets = [(p, preset_label(p)) for p in settings.presets if p in PRESETS]
        return templates.TemplateResponse(request, "index.html", {
            "version": VERSION,
            "presets": presets,
            "default_preset": "quick" if "quick" in settings.presets else settings.presets[0],
            "upload_limit": settings.upload_limit_text,
            "preset_help": "; ".join(f"{p}: {PRESET_HELP[p]}" for p in settings.presets if p in PRESET_HELP),
        })

    return app


def default_app() -> FastAPI:
    """For `uvicorn --factory web.app:default_app` (data in ./data)."""
    return create_app(Settings())
