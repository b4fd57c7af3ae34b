"""Videos the server renders: `nca record` (nca.record.record) of a model, in a worker process.

    POST /api/models/leopard/video  {"size": 256, "steps": 480, "steps_per_frame": 2,
                                     "damage": ["circle@240:r=0.2"]}        -> video/mp4

The PyTorch model renders every frame (one pixel per cell), so the video is exactly what the
checkpoint does, with a real duration, at the grid's resolution. The options are checked before
any work with the record module's own checks (one-line messages) and this server's limits
(web/settings.py). The render runs in a `spawn`ed process, as training does: the server stays
responsive, torch threads are bounded, and the process is stopped when the client goes away or
the time limit passes. At most `max_video_renders` at once; another request meanwhile gets 429.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .settings import Settings

FORMATS = {"mp4": "video/mp4", "webm": "video/webm"}
MAX_DAMAGE = 32
MAX_SPEC = 200
POLL_SECONDS = 0.1


class VideoRequest(BaseModel):
    """What to render; the defaults are those of `nca record` but for steps (600) and steps per frame (2)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["mp4", "webm"] = Field("mp4", description="mp4 (H.264, plays everywhere) or webm (VP9)")
    size: int | str = Field(256, description="grid in cells, N or WIDTHxHEIGHT; one video pixel per cell")
    steps: int = Field(600, description="NCA steps from the seed")
    steps_per_frame: int = Field(2, description="steps between frames")
    fps: int = Field(30, description="frames per second")
    seed: int = Field(0, description="random seed: same options, same frames")
    damage: list[str] = Field(default_factory=list,
                              description="damage specs of `nca record --damage`, e.g. circle@240:r=0.2")
    angle: float = Field(0.0, description="rotation of the texture in degrees (`nca record --angle`)")


class VideoError(ValueError):
    """Options that cannot be rendered here; `status` is the HTTP answer, the message one line."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The client closed the connection; the render was stopped."""


@dataclass(frozen=True)
class VideoJob:
    """Checked options, in the units record() takes (but the angle, kept in degrees for names)."""

    format: str
    width: int
    height: int
    steps: int
    steps_per_frame: int
    fps: int
    seed: int
    damage: tuple[str, ...]
    angle: float

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    def filename(self, stem: str) -> str:
        return f"{stem}-{self.width}x{self.height}-{self.steps}steps.{self.format}"


def check(request: VideoRequest, settings: Settings) -> VideoJob:
    """The record module's checks, then this server's limits; raises VideoError (one line)."""
    from nca.record.damage import DamageError, parse_damage, validate_schedule
    from nca.record.errors import RecordError
    from nca.record.options import check_int, parse_size
    from nca.record.writers import check_output

    if len(request.damage) > MAX_DAMAGE or any(len(d) > MAX_SPEC for d in request.damage):
        raise VideoError(f"at most {MAX_DAMAGE} damage specs of up to {MAX_SPEC} characters each")
    try:
        width, height = parse_size(request.size)
        check_int("steps", request.steps, 1)
        check_int("steps per frame", request.steps_per_frame, 1, request.steps)
        check_int("fps", request.fps, 1, 120)
        check_int("seed", request.seed, 0, 2**63 - 1)
        validate_schedule([parse_damage(d) for d in request.damage], request.steps)
        # Even sides for yuv420p (the directory is only a stand-in: nothing is written here).
        check_output(Path(tempfile.gettempdir()) / f"video.{request.format}", request.format, width, height)
    except (RecordError, DamageError) as exc:
        raise VideoError(str(exc)) from None
    if not (math.isfinite(request.angle) and -360 <= request.angle <= 360):
        raise VideoError(f"angle must be a number of degrees from -360 to 360, got {request.angle!r}")
    side, steps, work = settings.max_video_side, settings.max_video_steps, settings.max_video_cell_steps
    if max(width, height) > side:
        raise VideoError(f"size {width}x{height} is over this server's limit of {side} cells a side "
                         "(`nca record` renders bigger videos)")
    if request.steps > steps:
        raise VideoError(f"at most {steps} steps per video here, asked for {request.steps}")
    if width * height * request.steps > work:
        raise VideoError(f"{width}x{height} cells for {request.steps} steps is more than this server renders "
                         f"(cells x steps at most {work:,}, e.g. 256x256 for {work // (256 * 256)} steps)")
    return VideoJob(request.format, width, height, request.steps, request.steps_per_frame, request.fps,
                    request.seed, tuple(request.damage), request.angle)


class VideoRenderer:
    """Runs renders in worker processes, `max_video_renders` at a time (counted on the event loop)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.active = 0

    async def render(self, source: Path, job: VideoJob, disconnected: Callable[[], Awaitable[bool]]) -> bytes:
        """The encoded video of `source` (a bundle or run directory, or a checkpoint file).

        Raises VideoError (429 busy, 504 over time, 500 the worker failed) or ClientGone."""
        if self.active >= self.settings.max_video_renders:
            raise VideoError("the server is already rendering a video; try again when it is done", 429)
        self.active += 1
        tmp = Path(tempfile.mkdtemp(prefix=".video-", dir=self.settings.data_dir))
        try:
            out = tmp / f"video.{job.format}"
            spec = {"source": str(source), "out": str(out), "threads": self.settings.worker_threads, **asdict(job)}
            await self._run(spec, disconnected)
            return out.read_bytes()
        finally:
            self.active -= 1
            shutil.rmtree(tmp, ignore_errors=True)

    async def _run(self, spec: dict[str, Any], disconnected: Callable[[], Awaitable[bool]] | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=render_worker, args=(spec, send), name="nca-video", daemon=True)
        await asyncio.to_thread(proc.start)
        send.close()  # the child holds the other end: EOF here once it exits
        deadline = time.monotonic() + self.settings.video_timeout_seconds
        outcome = None
        try:
            while outcome is None:
                if receive.poll():
                    try:
                        outcome = receive.recv()
                    except EOFError:  # it exited without a word
                        break
                elif not proc.is_alive():
                    if not receive.poll():
                        break
                elif disconnected is not None and await disconnected():
                    raise ClientGone
                elif time.monotonic() > deadline:
                    raise VideoError(f"rendering took longer than {self.settings.video_timeout_seconds:g} s "
                                     "and was stopped: ask for fewer cells or steps", 504)
                else:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            await asyncio.to_thread(_stop, proc, outcome is not None)
            receive.close()
        if outcome is None:
            raise VideoError(f"the video worker stopped unexpectedly (exit code {proc.exitcode})", 500)
        kind, message = outcome
        if kind != "ok":
            raise VideoError(message, 500)


def _stop(proc, finished: bool) -> None:
    """Let a worker that answered exit; ask one still rendering to stop (it discards its temporary
    video and ends ffmpeg), then kill it."""
    if finished:
        proc.join(10)
    if proc.is_alive():
        proc.terminate()
        proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join()


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # record() aborts its writer: ffmpeg is stopped, the partial file removed


def render_worker(spec: dict[str, Any], conn) -> None:
    """The worker process: one record() call; sends ("ok", "") or ("error", one line) back."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        import torch

        from nca.record import record

        torch.set_num_threads(max(1, int(spec["threads"])))
        # On the CPU the same options give the same frames.
        record(spec["source"], spec["out"], size=(spec["width"], spec["height"]), steps=spec["steps"],
               steps_per_frame=spec["steps_per_frame"], fps=spec["fps"], seed=spec["seed"],
               format=spec["format"], damage=list(spec["damage"]), angle=math.radians(spec["angle"]),
               device="cpu", repair=False, progress=False)
        conn.send(("ok", ""))
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - every failure is one line for the client
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        conn.send(("error", text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"))
    finally:
        conn.close()
