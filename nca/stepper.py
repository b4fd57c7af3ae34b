"""The dense NCA step training and the probe run (and on a GPU the check): torch.compile'd where it pays."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from .model import fused_step
from .precision import autocast


def _in_dtype(device: torch.device, dtype: torch.dtype) -> Callable[..., torch.Tensor]:
    """fused_step with its convolutions in `dtype` (the state it returns stays float32)."""
    if dtype == torch.float32:
        return fused_step

    def step(*args: torch.Tensor) -> torch.Tensor:
        with autocast(device, dtype):
            return fused_step(*args)

    return step


@contextmanager
def _ctrl_c_kept() -> Iterator[None]:
    """A Ctrl-C that lands inside torch.compile can come out as a RuntimeError (seen in CI), which would
    read as "compile unavailable" and train on: note the signal, and raise it as the KeyboardInterrupt it is."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # signals reach only the main thread; an ignored or custom Ctrl-C is someone else's
        return
    arrived: list[int] = []

    def on_ctrl_c(signum: int, frame: object) -> None:
        arrived.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    except Exception:
        if arrived:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def make_stepper(device: torch.device, compile_step: bool | None, quiet: bool,
                 dtype: torch.dtype = torch.float32) -> Callable[..., torch.Tensor]:
    """torch.compile the step where it pays (bench/train_speed.py measures it); fall back to eager."""
    eager = _in_dtype(device, dtype)
    if compile_step is False or device.type == "mps":
        return eager
    if compile_step is None and device.type not in ("cpu", "cuda"):
        return eager
    return compiled(eager, quiet)


def compiled(eager: Callable[..., torch.Tensor], quiet: bool) -> Callable[..., torch.Tensor]:
    """`eager` under torch.compile, or `eager` itself where compiling fails (then once a note unless `quiet`)."""
    try:
        with _ctrl_c_kept():
            fast = torch.compile(eager, dynamic=False)
    except Exception as exc:  # noqa: BLE001 - any compile failure just means eager mode
        if not quiet:
            print(f"note: torch.compile unavailable ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
        return eager

    state = {"fn": fast}

    def step(*args: torch.Tensor) -> torch.Tensor:
        try:
            with _ctrl_c_kept():  # the first call compiles, for seconds
                return state["fn"](*args)
        except Exception as exc:  # noqa: BLE001 - e.g. no C compiler on the user's machine
            if state["fn"] is eager:
                raise
            if not quiet:
                print(f"note: torch.compile failed ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
            state["fn"] = eager
            return eager(*args)

    return step
