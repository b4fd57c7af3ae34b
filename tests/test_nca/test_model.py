import math

import pytest
import torch

from nca.config import ConfigError, ModelConfig, preset
from nca.model import NCA, perception_kernels, pick_device, to_rgb
from tests.conftest import random_model


def test_preset_overrides_given_as_lists_become_tuples():
    """JSON recipes and notebooks pass lists; the frozen configs keep tuples, as checkpoints restore them."""
    _, cfg = preset("quick", lr_decay_at=[500, 800], layer_weights=[1, 1, 1, 1, 0])
    assert cfg.lr_decay_at == (500, 800)
    assert cfg.layer_weights == (1, 1, 1, 1, 0)
    hash(cfg)


@pytest.mark.parametrize("channels,hidden", [(4, 8), (8, 16), (12, 96), (16, 32), (32, 128)])
def test_shapes_and_parameter_count(channels, hidden):
    model = random_model(channels, hidden)
    x = model.seed(2, 20, 24)
    assert x.shape == (2, channels, 20, 24)
    assert model.perceive(x).shape == (2, 4 * channels, 20, 24)
    assert model(x).shape == x.shape
    counted = sum(p.numel() for p in model.parameters())
    assert counted == ModelConfig(channels=channels, hidden=hidden).parameter_count


def test_fastai_sized_model_has_168_parameters():
    assert ModelConfig(channels=4, hidden=8).parameter_count == 168


@pytest.mark.parametrize("channels", [3, 0, 36, 10])
def test_bad_channel_counts_are_refused(channels):
    with pytest.raises(ConfigError, match="multiple of 4"):
        ModelConfig(channels=channels)


def test_untrained_model_is_identity():
    model = NCA(ModelConfig())
    x = torch.randn(1, 12, 16, 16)
    assert torch.equal(model(x, fire_rate=1.0), x)


def test_fused_update_equals_explicit_perception_then_mlp():
    model = random_model(12, 32)
    x = torch.randn(2, 12, 16, 16) * 0.3
    for angle in (0.0, 0.7):
        p = model.perceive(x, angle)
        hidden = torch.relu(torch.einsum("bfhw,kf->bkhw", p, model.w1) + model.b1[None, :, None, None])
        explicit = torch.einsum("bkhw,ck->bchw", hidden, model.w2)
        assert torch.allclose(model.update(x, angle), explicit, atol=1e-5)


def test_circular_padding_wraps_around_edges():
    """Shifting the state across the edge shifts the result the same way: no border exists."""
    model = random_model(8, 16)
    x = torch.randn(1, 8, 12, 10) * 0.5
    shifted = torch.roll(x, shifts=(5, -3), dims=(2, 3))
    y = model(x, fire_rate=1.0)
    y_shifted = model(shifted, fire_rate=1.0)
    assert torch.allclose(torch.roll(y, shifts=(5, -3), dims=(2, 3)), y_shifted, atol=1e-6)
    # and a lone dot at the corner is seen by the cells on the opposite edges
    dot = torch.zeros(1, 8, 12, 10)
    dot[0, 0, 0, 0] = 1.0
    p = model.perceive(dot)
    assert p[0, 8 * 1, 0, 9] != 0  # sobel_x at the left neighbour across the edge
    assert p[0, 8 * 3, 11, 0] != 0  # laplacian at the cell above across the edge


@pytest.mark.parametrize("rate", [0.25, 0.5, 0.75])
def test_update_mask_fraction_is_close_to_fire_rate(rate):
    model = random_model(4, 8)
    x = torch.randn(1, 4, 256, 256) * 0.3
    gen = torch.Generator().manual_seed(1)
    y = model(x, fire_rate=rate, generator=gen)
    changed = (y != x).any(dim=1).float().mean().item()
    assert abs(changed - rate) < 0.01
    # every channel of a cell fires together
    per_channel = (y != x).float().mean(dim=(0, 2, 3))
    assert torch.allclose(per_channel, per_channel[0].expand_as(per_channel), atol=0.002)


def test_rotating_the_sobel_pair():
    k0 = perception_kernels(0.0)
    k90 = perception_kernels(math.pi / 2)
    assert torch.allclose(k90[1], -k0[2], atol=1e-6)
    assert torch.allclose(k90[2], k0[1], atol=1e-6)
    assert torch.equal(k90[0], k0[0]) and torch.equal(k90[3], k0[3])


def test_seed_noise_and_rgb_view():
    model = NCA(ModelConfig())
    assert torch.equal(to_rgb(model.seed(1, 4, 4)), torch.full((1, 3, 4, 4), 0.5))
    noisy = model.seed(1, 8, 8, noise=0.1, generator=torch.Generator().manual_seed(0))
    assert 0.05 < noisy.std().item() < 0.15


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError):
        pick_device("tpu")


def test_a_scale_field_is_the_scaled_perception_that_training_uses():
    """A cell of scale k in a field steps as the whole grid does with perception_kernels(angle, k):
    the Sobel pair times k, the Laplacian times k^2 (the field's path and training's agree)."""
    from nca import fields

    model = random_model(8, 16, seed=3, scale=0.3)
    x = torch.randn(1, 8, 12, 10, generator=torch.Generator().manual_seed(0)) * 0.3
    for k in (0.5, 1.7):
        field = fields.uniform_field(12, 10, angle=0.4, scale=k)
        painted = model.update_rotated(x, fields.rotation(field))
        trained = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="circular"),
                                             model._fused_kernel(0.4, k), model.b1).relu()
        assert torch.allclose(painted, torch.nn.functional.conv2d(trained, model.w2[:, :, None, None]), atol=1e-5)
    k = perception_kernels(0.0, 2.0) / perception_kernels(0.0)
    assert torch.allclose(k[1][:, [0, 2]], torch.full((3, 2), 2.0)) and torch.allclose(k[3], torch.full((3, 3), 4.0))
