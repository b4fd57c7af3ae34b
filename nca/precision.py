"""The arithmetic training runs in: float32, or bfloat16 where the hardware computes it natively.

bfloat16 applies to the rollout's convolutions and the VGG features only; states, weights, Gram
matrices and the loss stay float32, and the closing check, the evaluation and the shader run
float32, so a verdict is always about the model as it is played.
"""

from __future__ import annotations

import contextlib

import torch


def native_bfloat16(device: torch.device) -> bool:
    """True where bfloat16 convolutions run faster than float32: AMX or AVX512-BF16 CPUs, bf16 GPUs.
    Elsewhere PyTorch emulates them, several times slower."""
    if device.type == "cuda":  # Ampere and later; is_bf16_supported() also counts emulation on older cards
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        probes = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
        return any(probe is not None and probe() for probe in probes)
    return False


def training_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype a TrainConfig.precision means on `device`."""
    if precision == "bfloat16" or (precision == "auto" and native_bfloat16(device)):
        return torch.bfloat16
    return torch.float32


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Mixed precision for the block, or nothing for float32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def full_precision(features: torch.Tensor) -> contextlib.AbstractContextManager:
    """Leave an enclosing autocast for the block when `features` came out of one in lower precision
    (Gram matrices and losses stay float32)."""
    if features.dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(features.device.type, enabled=False)
