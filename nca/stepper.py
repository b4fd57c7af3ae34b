"""The one NCA step training, the probe and the evaluation run: torch.compile'd where it pays."""

from __future__ import annotations

import sys
from collections.abc import Callable

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


def make_stepper(device: torch.device, compile_step: bool | None, quiet: bool,
                 dtype: torch.dtype = torch.float32) -> Callable[..., torch.Tensor]:
    """torch.compile the step where it pays (bench/train_speed.py measures it); fall back to eager."""
    eager = _in_dtype(device, dtype)
    if compile_step is False or device.type == "mps":
        return eager
    if compile_step is None and device.type not in ("cpu", "cuda"):
        return eager
    try:
        compiled = torch.compile(eager, dynamic=False)
    except Exception as exc:  # noqa: BLE001 - any compile failure just means eager mode
        if not quiet:
            print(f"note: torch.compile unavailable ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
        return eager

    state = {"fn": compiled}

    def step(*args: torch.Tensor) -> torch.Tensor:
        try:
            return state["fn"](*args)
        except Exception as exc:  # noqa: BLE001 - e.g. no C compiler on the user's machine
            if state["fn"] is eager:
                raise
            if not quiet:
                print(f"note: torch.compile failed ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
            state["fn"] = eager
            return eager(*args)

    return step
