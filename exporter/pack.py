"""Stage 1 of the export: checkpoint -> PackedModel, a frozen bag of numpy arrays and sizes.

All arithmetic of the export happens here (padding, grouping into 4x4 blocks), so the
GLSL formatter only prints numbers and the templates only loop and substitute.

Block layout, the contract between this file and shaders/update.frag.j2:
  * the state has C = 4G channels in G RGBA targets: channel 4k + j is target k, component j;
  * the perception vector is filter-major (see nca/model.py): feature f*C + c, so the
    vec4 `p[f][k]` holds features f*C + 4k .. f*C + 4k + 3;
  * hidden units are padded with zeros to 4J (J = ceil(hidden/4)); a padded unit has zero
    weights and zero bias, so relu(0) = 0 and it contributes nothing;
  * w1_blocks[j, f, k] is the 4x4 block  W[r][c] = w1[4j + r, f*C + 4k + c]  (row r = output),
  * w2_blocks[k, j] is the 4x4 block     W[r][c] = w2[4k + r, 4j + c].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nca.checkpoint import Checkpoint

FILTERS = ("identity", "sobel_x", "sobel_y", "laplacian")
MAX_TARGETS = 8  # WebGL2 only guarantees 4 draw buffers; 8 covers C = 32 and SwiftShader offers 8


class PackError(ValueError):
    """The checkpoint holds a model this exporter cannot turn into a shader."""


@dataclass(frozen=True)
class PackedModel:
    channels: int
    hidden: int
    fire_rate: float
    w1_blocks: np.ndarray  # J x 4 x G x 4 x 4 float32, [j, f, k, row, col]
    b1_blocks: np.ndarray  # J x 4 float32
    w2_blocks: np.ndarray  # G x J x 4 x 4 float32, [k, j, row, col]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def targets(self) -> int:
        """G: RGBA state targets (= multiple render target outputs)."""
        return self.channels // 4

    @property
    def hidden_groups(self) -> int:
        """J: vec4s of hidden units, the last one zero-padded."""
        return self.b1_blocks.shape[0]

    @property
    def parameter_count(self) -> int:
        c, h = self.channels, self.hidden
        return 4 * c * h + h + h * c


def pack(ckpt: Checkpoint) -> PackedModel:
    cfg = ckpt.model_config
    c, h = cfg.channels, cfg.hidden
    # ModelConfig already refuses these; checked again because the shader layout depends on it.
    if c % 4 or not 4 <= c <= 4 * MAX_TARGETS:
        raise PackError(f"cannot export {c} channels: the shader needs a multiple of 4 from 4 to {4 * MAX_TARGETS}")
    w1 = _array(ckpt.state_dict["w1"], (h, 4 * c), "w1")
    b1 = _array(ckpt.state_dict["b1"], (h,), "b1")
    w2 = _array(ckpt.state_dict["w2"], (c, h), "w2")
    g, j = c // 4, -(-h // 4)

    w1p = np.zeros((4 * j, 4 * c), np.float32)
    w1p[:h] = w1
    b1p = np.zeros(4 * j, np.float32)
    b1p[:h] = b1
    w2p = np.zeros((c, 4 * j), np.float32)
    w2p[:, :h] = w2

    # w1p[4j + r, f*C + 4k + col] -> [j, f, k, r, col]
    w1_blocks = w1p.reshape(j, 4, 4, g, 4).transpose(0, 2, 3, 1, 4)
    # w2p[4k + r, 4j + col] -> [k, j, r, col]
    w2_blocks = w2p.reshape(g, 4, j, 4).transpose(0, 2, 1, 3)
    return PackedModel(
        channels=c,
        hidden=h,
        fire_rate=float(cfg.fire_rate),
        w1_blocks=np.ascontiguousarray(w1_blocks),
        b1_blocks=b1p.reshape(j, 4),
        w2_blocks=np.ascontiguousarray(w2_blocks),
        meta=dict(ckpt.meta),
    )


def _array(tensor: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = tensor.detach().cpu().float().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, np.float32)
    if arr.shape != shape:
        raise PackError(f"weight {name} has shape {arr.shape}, expected {shape}")
    if not np.isfinite(arr).all():
        raise PackError(f"weight {name} contains NaN or infinity: the model diverged, export an earlier checkpoint")
    return arr.astype(np.float32)
