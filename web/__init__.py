"""NCA Studio web app: FastAPI server, training job manager and the realtime WebGL page.

    from web.app import create_app
    from web.settings import Settings
    app = create_app(Settings(data_dir="studio-data"))
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
