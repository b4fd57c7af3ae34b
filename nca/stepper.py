"""The one NCA step training, the probe and the evaluation run: torch.compile'd where it pays."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch

from .model import fused_step


def make_stepper(device: torch.device, compile_step: bool | None, quiet: bool) -> Callable[..., torch.Tensor]:
    """torch.compile the step where it pays (bench/train_speed.py measures it); fall back to eager."""
    if compile_step is False or device.type == "mps":
        return fused_step
    if compile_step is None and device.type not in ("cpu", "cuda"):
        return fused_step
    try:
        compiled = torch.compile(fused_step, dynamic=False)
    except Exception as exc:  # noqa: BLE001 - any compile failure just means eager mode
        if not quiet:
            print(f"note: torch.compile unavailable ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
        return fused_step

    state = {"fn": compiled}

    def step(*args: torch.Tensor) -> torch.Tensor:
        try:
            return state["fn"](*args)
        except Exception as exc:  # noqa: BLE001 - e.g. no C compiler on the user's machine
            if state["fn"] is fused_step:
                raise
            if not quiet:
                print(f"note: torch.compile failed ({exc.__class__.__name__}); running the step in eager mode", file=sys.stderr)
            state["fn"] = fused_step
            return fused_step(*args)

    return step
