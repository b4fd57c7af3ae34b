"""One training job in its own process (multiprocessing "spawn"), so that a crash, an OOM
kill or a runaway native library in training can never take the server down.

The parent passes a plain dict `spec` and talks to the worker through two objects only:
  messages  a multiprocessing Queue of dicts, worker -> server:
              {"type": "started", "resume": bool}
              {"type": "progress", "iteration", "iterations", "loss", "it_per_s", "eta_s", "lr"}
              {"type": "preview", "iteration"}
              {"type": "phase", "phase": "evaluating"}
              {"type": "exporting"}
              {"type": "finished", "model_id", "iterations", "final_loss", "wall_time", "verdict"}
              {"type": "cancelled", "iterations"}
              {"type": "failed", "error": one line}
  stop      a multiprocessing Event; set by the server to cancel (train's should_stop polls it).
Exactly one of finished / cancelled / failed is the last message, unless the process dies.
The worker dies with its server: when the server process is gone (even after kill -9) it
checkpoints and exits, so no orphan goes on writing a run the next server may resume.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


ORPHAN_POLL_SECONDS = 0.5
ORPHAN_GRACE_SECONDS = 30.0  # time to write the checkpoint once the server is gone, then exit regardless
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)*([^\s/'\"]+)")


def main(spec: dict[str, Any], messages, stop) -> None:
    job_dir = Path(spec["job_dir"])
    log = (job_dir / "worker.log").open("a", encoding="utf-8", buffering=1)
    sys.stdout = sys.stderr = log  # anything a library prints goes to the job's log, not the server's
    server_pid = spec.get("server_pid")
    if server_pid:
        threading.Thread(target=_die_with_server, args=(int(server_pid), stop, log), daemon=True).start()
    try:
        _run(spec, messages, stop, log)
    except BaseException as exc:  # noqa: BLE001 - the worker reports every failure as one line
        traceback.print_exc(file=log)
        messages.put({"type": "failed", "error": _one_line(exc)})
    finally:
        log.close()


def _die_with_server(server_pid: int, stop, log) -> None:
    """Our parent is the server; when it is gone we are re-parented: stop, then exit for sure."""
    while os.getppid() == server_pid:
        time.sleep(ORPHAN_POLL_SECONDS)
    print(f"[{time.strftime('%H:%M:%S')}] the server is gone: checkpointing and exiting", file=log, flush=True)
    stop.set()  # training's should_stop: it writes its checkpoint and returns
    time.sleep(ORPHAN_GRACE_SECONDS)
    os._exit(1)


def _one_line(exc: BaseException) -> str:
    """The error as the page shows it: one line, and no absolute path of the server's disk."""
    return ABSOLUTE_PATH.sub(r"\1", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    from exporter import ExportError
    from nca.checkpoint import CheckpointError
    from nca.config import ConfigError
    from nca.image import ImageError
    from nca.train import TrainingError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, ImageError | ConfigError | TrainingError | ExportError | CheckpointError):
        return text
    if isinstance(exc, MemoryError):
        return "training ran out of memory"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run(spec: dict[str, Any], messages, stop, log) -> None:
    import torch

    from exporter import export
    from nca.checkpoint import CHECKPOINT_NAME, RESUME_NAME, load_checkpoint
    from nca.train import RunResult, run_progress, train

    job_dir = Path(spec["job_dir"])
    run_dir = job_dir / "run"
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    resume = bool(spec.get("resume")) and (run_dir / CHECKPOINT_NAME).is_file() and (run_dir / RESUME_NAME).is_file()
    messages.put({"type": "started", "resume": resume})
    print(f"[{time.strftime('%H:%M:%S')}] job {spec['job_id']}: preset {spec['preset']}, "
          f"options {spec.get('options')}, resume {resume}", file=log)

    def progress(info: dict[str, Any]) -> None:
        if "phase" in info:
            messages.put({"type": "phase", "phase": str(info["phase"])})
            return
        if "preview" in info:
            messages.put({"type": "preview", "iteration": int(info["iteration"])})
            return
        messages.put({
            "type": "progress",
            "iteration": int(info["iteration"]),
            "iterations": int(info["iterations"]),
            "loss": _finite(info.get("loss")),
            "it_per_s": _finite(info.get("it_per_s")),
            "eta_s": _finite(info.get("eta_s")),
            "lr": _finite(info.get("lr")),
        })

    style = (job_dir / "upload").read_bytes()
    overrides = {k: v for k, v in (spec.get("options") or {}).items() if v is not None}
    kwargs: dict[str, Any] = {"iterations": overrides.pop("iterations")} if "iterations" in overrides else {}
    if not resume:
        kwargs.update(overrides)
    done = run_progress(run_dir) if resume else None
    wanted = kwargs.get("iterations")
    if done is not None and done[0] >= (wanted or done[1]):
        # The run finished (its worker died before exporting, or an earlier server lost track): export it.
        meta = load_checkpoint(run_dir).meta
        result = RunResult(run_dir, run_dir / CHECKPOINT_NAME, done[0], meta.get("final_loss", math.nan),
                           meta.get("wall_time", 0.0), "finished", evaluation=meta.get("evaluation"))
    else:
        result = train(style, run_dir, preset=spec["preset"], device=spec.get("device", "auto"), resume=resume,
                       progress=progress, should_stop=stop.is_set, quiet=True, **kwargs)
    messages.put({"type": "preview", "iteration": result.iterations})  # train wrote preview_rollout.png
    if result.status == "cancelled":
        messages.put({"type": "cancelled", "iterations": result.iterations})
        return

    messages.put({"type": "exporting"})
    models_dir = Path(spec["models_dir"])
    bundle = export(run_dir, models_dir, name=spec["model_id"], force=True)  # the job's own bundle, if a try got that far
    studio = {"title": spec["name"], "job_id": spec["job_id"], "preset": spec["preset"],
              "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (bundle / "studio.json").write_text(json.dumps(studio, indent=2) + "\n", encoding="utf-8")
    messages.put({"type": "finished", "model_id": spec["model_id"], "iterations": result.iterations,
                  "final_loss": _finite(result.final_loss), "wall_time": _finite(result.wall_time),
                  "verdict": (result.evaluation or {}).get("verdict")})
