"""Checkpoints: a small, safe-to-load file holding the model, both configs and training metadata.

`checkpoint.pt` is written with torch.save but contains only tensors and plain Python
values, so it loads with `torch.load(weights_only=True)`: an untrusted file cannot run code.
Resume state (optimizer, pool, RNG) lives apart in `resume.pt` so that the file the
exporter, the recorder and the studio read stays a few kilobytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict
from .files import replacing
from .model import NCA

FORMAT = "nca-studio/checkpoint"
VERSION = 1
CHECKPOINT_NAME = "checkpoint.pt"
RESUME_NAME = "resume.pt"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message is one line for the user."""


@dataclass
class Checkpoint:
    model_config: ModelConfig
    train_config: TrainConfig
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    style_image: torch.Tensor | None = None  # H x W x 3 uint8, the style as trained on (resized)
    path: Path | None = None

    def build_model(self, device: torch.device | str = "cpu") -> NCA:
        model = NCA(self.model_config)
        model.load_state_dict(self.state_dict)
        return model.to(device).eval()


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save to a temporary file, then rename: a kill mid-write never leaves a torn file."""
    with replacing(path) as tmp:
        torch.save(obj, tmp)


def cpu_copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached CPU copies of a state dict: safe to keep or save while training goes on."""
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


def save_checkpoint(path: Path, model: NCA, train_config: TrainConfig, meta: dict[str, Any],
                    style_image: torch.Tensor | None = None,
                    weights: dict[str, torch.Tensor] | None = None) -> None:
    """`style_image` (H x W x 3 uint8) travels with the weights so that evaluation, thumbnails
    and the studio can show and measure against exactly what the model was trained on.
    `weights` (default: the model's own) lets training store a selected earlier state."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": to_dict(model.cfg),
        "train_config": to_dict(train_config),
        "model": cpu_copy(weights or model.state_dict()),
        "meta": dict(meta),
    }
    if style_image is not None:
        payload["style_image"] = style_image.detach().cpu().to(torch.uint8).contiguous()
    atomic_save(payload, Path(path))


def update_meta(path: Path, **meta: Any) -> None:
    """Add or replace metadata entries of a checkpoint file in place (atomically); weights untouched."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    payload["meta"] = {**payload.get("meta", {}), **meta}
    atomic_save(payload, Path(path))


def resolve_checkpoint(path: str | Path) -> Path:
    """Accept a checkpoint file, a run directory or a model bundle directory."""
    p = Path(path)
    if p.is_dir():
        candidate = p / CHECKPOINT_NAME
        if not candidate.is_file():
            raise CheckpointError(f"{p} has no {CHECKPOINT_NAME}: not a run directory or model bundle")
        return candidate
    if not p.exists():
        raise CheckpointError(f"no such file or directory: {p}")
    return p


def load_checkpoint(path: str | Path) -> Checkpoint:
    file = resolve_checkpoint(path)
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt, truncated, pickled code: one message
        raise CheckpointError(f"{file} is not a readable NCA checkpoint ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{file} is not an NCA Studio checkpoint")
    version = payload.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(
            f"{file} has checkpoint version {version}; this NCA Studio reads up to {VERSION}: upgrade it")
    try:
        model_config = from_dict(ModelConfig, payload["model_config"])
        # Checkpoints written before `gram_balance` existed were trained with per-layer balancing.
        train_config = from_dict(TrainConfig, {"gram_balance": "layer", **payload["train_config"]})
        state = payload["model"]
        expected = NCA(model_config).state_dict()
        if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
            raise CheckpointError(f"{file}: weights do not match its model config")
    except ConfigError as exc:
        raise CheckpointError(f"{file}: invalid config in checkpoint: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{file}: checkpoint is missing {exc}") from None
    style = payload.get("style_image")
    if style is not None and not (isinstance(style, torch.Tensor) and style.dim() == 3 and style.shape[2] == 3):
        raise CheckpointError(f"{file}: style image in checkpoint is malformed")
    meta = payload.get("meta", {})
    if not isinstance(meta, dict):
        raise CheckpointError(f"{file}: checkpoint metadata is malformed")
    return Checkpoint(model_config, train_config, state, dict(meta), style, file)
