"""Stage 1 of the exporter: packing the weights into 4x4 blocks computes the same model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exporter.pack import pack
from nca.checkpoint import Checkpoint
from nca.config import TrainConfig
from nca.model import perception_kernels
from tests.conftest import random_model


@pytest.mark.parametrize("channels,hidden", [(4, 1), (8, 6), (12, 96), (32, 5)])
def test_packed_blocks_compute_the_model(channels, hidden):
    """Evaluate the packed blocks the way the shader does and compare with nca.model."""
    model = random_model(channels, hidden)
    ckpt = Checkpoint(model.cfg, TrainConfig(), model.state_dict(), {})
    packed = pack(ckpt)
    g, j = packed.targets, packed.hidden_groups
    x = torch.randn(1, channels, 5, 6)
    perception = model.perceive(x, angle=0.4)[0, :, 2, 3].numpy()  # one cell, filter-major 4C
    p = perception.reshape(4, g, 4)  # [filter, target, component]
    hid = np.stack([packed.b1_blocks[jj] + sum(packed.w1_blocks[jj, f, k] @ p[f, k] for f in range(4) for k in range(g))
                    for jj in range(j)])
    hid = np.maximum(hid, 0.0)
    dx = np.concatenate([sum(packed.w2_blocks[k, jj] @ hid[jj] for jj in range(j)) for k in range(g)])
    expected = model.update(x, angle=0.4)[0, :, 2, 3].detach().numpy()
    assert np.allclose(dx, expected, atol=1e-5)
    assert packed.parameter_count == model.cfg.parameter_count


def test_sobel_orientation_matches_shader_comment():
    """The shader hard-codes the un-rotated Sobel pair as in perception_kernels(0)."""
    k = perception_kernels(0.0).numpy()
    assert k[1, 1, 2] > 0 and k[1, 1, 0] < 0  # sobel_x: +right
    assert k[2, 2, 1] > 0 and k[2, 0, 1] < 0  # sobel_y: +down (row y+1)
