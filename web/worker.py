"""One training job in its own process (multiprocessing "spawn"), so that a crash, an OOM
kill or a runaway native library in training can never take the server down.

    main(spec, messages, stop)    web/jobs/protocol.py defines the spec and every message

Messages: started; progress, preview, phase and live (a bundle of the current weights, web/jobs/live.py)
while it trains; exporting; last, exactly one of finished / cancelled / failed, unless the process dies.
`stop` is train's should_stop; set after training is done, the job is cancelled before its export.
The exporter writes the model's bundle whole, studio.json included; the worker never edits it.
The worker dies with its server: when the server process is gone (even after kill -9) it
checkpoints and exits, so no orphan goes on writing a run the next server may resume.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from .jobs import protocol
from .jobs.protocol import WorkerSpec

ORPHAN_POLL_SECONDS = 0.5
ORPHAN_GRACE_SECONDS = 30.0  # time to write the checkpoint once the server is gone, then exit regardless
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)*([^\s/'\"]+)")


def main(spec: WorkerSpec, messages, stop) -> None:
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
        messages.put(protocol.failed(_one_line(exc)))
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


def _run(spec: WorkerSpec, messages, stop, log) -> None:
    import torch

    from exporter import export
    from nca.checkpoint import CHECKPOINT_NAME, RESUME_NAME, load_checkpoint
    from nca.config import preset
    from nca.model import pick_device
    from nca.rundir import run_progress
    from nca.train import RunResult, train

    from .jobs import live
    from .jobs.remaining import Remaining

    job_dir = Path(spec["job_dir"])
    run_dir = job_dir / "run"
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    resume = bool(spec.get("resume")) and (run_dir / CHECKPOINT_NAME).is_file() and (run_dir / RESUME_NAME).is_file()
    messages.put(protocol.started(resume))
    print(f"[{time.strftime('%H:%M:%S')}] job {spec['job_id']}: preset {spec['preset']}, "
          f"options {spec.get('options')}, resume {resume}", file=log)

    style = (job_dir / "upload").read_bytes()
    # On resume too: train() keeps the run's settings and refuses an option that would change them.
    options = {k: v for k, v in (spec.get("options") or {}).items() if v is not None}
    left = Remaining(*preset(spec["preset"], **options), live_thumbnail_steps=live.THUMBNAIL_STEPS,
                     device_type=pick_device(spec.get("device", "auto")).type)
    writer = live.LiveWriter(job_dir, int(spec.get("live_every") or 0), float(spec.get("live_seconds") or 0.0))

    earlier = {"done": 0, "last": 0}  # iterations of a first try before a second (nca/retry.py)

    def progress(info: dict[str, Any]) -> None:
        iteration = info["iteration"]
        if info.get("phase") == "retrying":  # a try starts at 0 (a base, style size, steadying) or goes on: count on
            earlier["done"] += earlier["last"] - iteration
        earlier["last"] = iteration
        if "phase" in info:
            left.phase_started(info["phase"])
            messages.put(protocol.phase(info["phase"], left.parts(iteration, info["phase"])))
        elif "preview" in info:
            messages.put(protocol.preview(iteration))
        else:
            left.iteration_done(iteration, info.get("seconds"))
            messages.put(protocol.progress(iteration, info["iterations"], info.get("loss"), info.get("it_per_s"),
                                           info.get("eta_s"), info.get("lr"), left.parts(iteration)))
            version = earlier["done"] + iteration
            if "snapshot" in info and not stop.is_set() and writer.due(version):
                _write_live(writer, left, info["snapshot"], version, messages, log)
    done = run_progress(run_dir) if resume else None
    if done is not None and done.over(options.get("iterations")):
        # The run finished (its worker died before exporting, or an earlier server lost track): export it.
        meta = load_checkpoint(run_dir).meta
        result = RunResult(run_dir, run_dir / CHECKPOINT_NAME, done.done, meta.get("final_loss", math.nan),
                           meta.get("wall_time", 0.0), "finished", evaluation=meta.get("evaluation"))
    else:
        result = train(style, run_dir, preset=spec["preset"], device=spec.get("device", "auto"), resume=resume,
                       progress=progress, should_stop=stop.is_set, quiet=True, **options)
    messages.put(protocol.preview(result.iterations))  # train wrote preview_rollout.png
    if result.status == "cancelled" or stop.is_set():  # a resume exports the finished run
        messages.put(protocol.cancelled(result.iterations))
        return

    messages.put(protocol.exporting(left.parts(result.iterations, "exporting")))
    studio = {"title": spec["name"], "job_id": spec["job_id"], "preset": spec["preset"],
              "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    # force: the job's own bundle, if an earlier try got that far.
    export(run_dir, Path(spec["models_dir"]), name=spec["model_id"], force=True, studio=studio)
    kept = run_progress(run_dir)  # the kept try's checkpoint: did its run end at a probe that held?
    messages.put(protocol.finished(spec["model_id"], result.iterations, result.final_loss, result.wall_time,
                                   (result.evaluation or {}).get("verdict"), kept is not None and kept.stopped_early))


def _write_live(writer, left, snapshot, iteration: int, messages, log) -> None:
    """A live bundle of the current weights; a failure costs the live view, never the job."""
    try:
        left.export_done(writer.write(snapshot, iteration))
    except Exception:  # noqa: BLE001 - e.g. a full disk: say so in the log, stop trying
        traceback.print_exc(file=log)
        print(f"[{time.strftime('%H:%M:%S')}] live bundles off after a failed export", file=log)
        writer.every = 0
        return
    messages.put(protocol.live(iteration))
