"""Settings of one studio server: where things live on disk and the limits it enforces."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from exporter.bundle import DEFAULT_DATA_DIR  # one default for `nca serve`, `nca export` and make
from nca.config import PRESETS

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_MODELS_DIR = PACKAGE_DIR / "models"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    # Read-only gallery shipped with the package (one bundle directory per model).
    bundled_models_dir: Path = BUNDLED_MODELS_DIR
    max_upload_bytes: int = 20 * 1024 * 1024
    # What one client can ask of the trainer: jobs waiting or running at once, iterations per job.
    max_active_jobs: int = 8
    max_iterations: int = 20_000
    # Who may talk to the server (web/security.py): the interface it is bound to, extra Host
    # names (e.g. a proxy's), and the token required when it listens beyond loopback.
    host: str = "127.0.0.1"
    allow_hosts: tuple[str, ...] = ()
    token: str | None = None
    presets: tuple[str, ...] = tuple(PRESETS)
    # Worker processes: torch CPU threads per training job and device. 0 = every core but one: where
    # WebGL runs on the CPU (no GPU), the playing page needs a core of its own (bench/studio_contention.py).
    train_threads: int = 0
    device: str = "auto"
    # Live bundles of a training job (web/jobs/live.py), which the page runs while it learns: a fresh
    # export of the current weights every N iterations or S seconds, whichever comes later, so that
    # exports (a checkpoint write, a bundle, a small thumbnail: ~0.1-0.5 s) take a few % of training.
    # 0 iterations: none.
    live_every_iterations: int = 20
    live_every_seconds: float = 15.0
    # Start the job manager's thread with the app (tests may drive it by hand).
    start_jobs: bool = True
    # How often an SSE stream looks for new events, and how often it sends a keep-alive comment.
    sse_poll_seconds: float = 0.2
    sse_keepalive_seconds: float = 15.0
    # The worker process entry point, "module:function" (tests substitute a crashing one).
    worker: str = "web.worker:main"
    # Videos the server renders (POST /api/models/{id}/video, web/videos.py): the longest side in
    # cells, the most steps, the most work (cells x steps: 256x256 for 4000 steps, 512x512 for 1000),
    # how many render at once, and how long one may take before its worker process is killed.
    max_video_side: int = 512
    max_video_steps: int = 4000
    max_video_cell_steps: int = 256 * 256 * 4000
    max_video_renders: int = 1
    video_timeout_seconds: float = 600.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "bundled_models_dir", Path(self.bundled_models_dir))

    @property
    def worker_threads(self) -> int:
        return self.train_threads or max(1, (os.cpu_count() or 2) - 1)

    @property
    def upload_limit_text(self) -> str:
        """The upload limit in the unit it is enforced in (binary megabytes)."""
        return f"{self.max_upload_bytes / (1024 * 1024):g} MiB"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"
