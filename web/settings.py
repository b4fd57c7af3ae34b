"""Settings of one studio server: where things live on disk and the limits it enforces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nca.config import PRESETS

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_MODELS_DIR = PACKAGE_DIR / "models"
DEFAULT_DATA_DIR = Path("studio-data")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    # Read-only gallery shipped with the package (one bundle directory per model).
    bundled_models_dir: Path = BUNDLED_MODELS_DIR
    max_upload_bytes: int = 20 * 1024 * 1024
    presets: tuple[str, ...] = tuple(PRESETS)
    # Worker processes: torch CPU threads per training job (0 = torch's default) and device.
    train_threads: int = 0
    device: str = "auto"
    # Start the job manager's thread with the app (tests may drive it by hand).
    start_jobs: bool = True
    # How often an SSE stream looks for new events, and how often it sends a keep-alive comment.
    sse_poll_seconds: float = 0.2
    sse_keepalive_seconds: float = 15.0
    # The worker process entry point, "module:function" (tests substitute a crashing one).
    worker: str = "web.worker:main"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "bundled_models_dir", Path(self.bundled_models_dir))

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"
