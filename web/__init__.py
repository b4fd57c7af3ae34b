"""NCA Studio web app: FastAPI server, training job manager and the realtime WebGL page.

    from web import Settings, create_app
    app = create_app(Settings(data_dir="data"))

Imports are lazy so that a training worker process (web.worker) does not load FastAPI.
"""

from __future__ import annotations

__all__ = ["Settings", "create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(f"module 'web' has no attribute {name!r}")
