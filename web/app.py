"""The FastAPI app factory: settings, middleware, static ES modules and one router per resource.

    uvicorn --factory web.app:default_app        # or: nca serve
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from .jobs.manager import JobManager
from .routers import health, jobs, models, pages
from .security import DOCS_ASSETS, SecurityMiddleware, allowed_hosts
from .settings import PACKAGE_DIR, Settings
from .store import ModelStore
from .uploads import MULTIPART_SLACK, UploadSizeLimit
from .version import VERSION
from .videos import VideoRenderer


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
    # What web/deps.py hands the routers.
    app.state.settings = settings
    app.state.store = ModelStore(settings.models_dir, settings.bundled_models_dir)
    app.state.jobs = manager
    app.state.videos = VideoRenderer(settings)

    app.add_middleware(UploadSizeLimit, limit=settings.max_upload_bytes + MULTIPART_SLACK,
                       text=settings.upload_limit_text)
    # Added last, so it runs first: nothing else sees a request from a foreign page.
    app.add_middleware(SecurityMiddleware, hosts=allowed_hosts(settings.host, settings.allow_hosts),
                       token=settings.token, any_host=bool(settings.token) and settings.host in ("0.0.0.0", "::"))

    app.include_router(models.router)
    app.include_router(models.files)
    app.include_router(jobs.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    # The page's modules, and beside them the engine's (gl.js, field.js, nca.js), which the exporter owns.
    app.mount("/static/js", StaticFiles(directory=PACKAGE_DIR / "static" / "js", packages=[("exporter", "js")]), name="js")
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    return app


def default_app() -> FastAPI:
    """For `uvicorn --factory web.app:default_app` (data in ./data)."""
    return create_app(Settings())
