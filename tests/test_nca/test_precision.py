"""bfloat16 training: the rollout and VGG in bfloat16, everything a user keeps in float32."""

import pytest
import torch

from nca.bases import base_model
from nca.checkpoint import load_checkpoint
from nca.image import image_to_tensor, load_style
from nca.model import fire_mask
from nca.precision import autocast, training_dtype
from nca.stepper import make_stepper
from nca.train import train
from nca.vgg import StyleLoss, VGGFeatures
from tests.conftest import TEXTURES

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def grown():
    """The leopard base model and a state it grew from the seed: a real texture, not noise."""
    model = load_checkpoint(base_model("leopard")).build_model("cpu")
    torch.manual_seed(0)
    return model, model.rollout(model.seed(2, 32, 32), 300)


def test_a_bfloat16_step_is_close_to_the_float32_step_and_keeps_the_state_float32(grown):
    model, x = grown
    mask = fire_mask(x, 1.0)
    kernel = model._fused_kernel(0.0)
    with torch.no_grad():
        exact = make_stepper(CPU, False, True)(x, mask, kernel, model.b1, model.w2)
        low = make_stepper(CPU, False, True, torch.bfloat16)(x, mask, kernel, model.b1, model.w2)
    assert low.dtype == torch.float32
    error = float((low - exact).norm() / (exact - x).norm())  # relative to the update, not the state
    assert 0 < error < 0.08, error  # 0.043 measured on this model


def test_the_style_loss_under_bfloat16_is_float32_close_and_differentiable():
    img, _ = load_style(TEXTURES / "pebbles.png", 64)
    style = image_to_tensor(img)
    loss = StyleLoss(VGGFeatures(), style, balance="none")
    image = torch.roll(style, (9, 21), (2, 3)).repeat(2, 1, 1, 1) * 0.8 + 0.1
    image.requires_grad_(True)
    exact = float(loss(image.detach()))
    with autocast(CPU, torch.bfloat16):
        low = loss(image)
    assert low.dtype == torch.float32
    assert float(low.detach()) == pytest.approx(exact, rel=0.05)
    assert float(low.detach()) != exact  # the features really were computed in bfloat16
    low.backward()
    assert image.grad is not None and torch.isfinite(image.grad).all() and image.grad.abs().sum() > 0


def test_a_bfloat16_run_records_it_and_hands_on_float32_weights(tmp_path):
    result = train(TEXTURES / "pebbles.png", tmp_path / "bf16", preset="tiny", precision="bfloat16", quiet=True,
                   compile_step=False)
    ckpt = load_checkpoint(result.checkpoint)
    assert ckpt.meta["precision"] == "bfloat16" and ckpt.train_config.precision == "bfloat16"
    assert all(v.dtype == torch.float32 for v in ckpt.state_dict.values())
    assert result.evaluation is not None and result.evaluation["verdict"] in ("good", "drifts", "poor", "failed")
    plain = train(TEXTURES / "pebbles.png", tmp_path / "fp32", preset="tiny", iterations=2, quiet=True,
                  compile_step=False)
    assert load_checkpoint(plain.checkpoint).meta["precision"] == "float32"


def test_auto_is_float32_where_bfloat16_would_be_emulated():
    assert training_dtype("auto", torch.device("mps")) == torch.float32
    assert training_dtype("float32", CPU) == torch.float32
    assert training_dtype("bfloat16", torch.device("mps")) == torch.bfloat16  # asked for: the user's choice


def test_an_unknown_precision_is_one_line(nca, tmp_path):
    r = nca("train", TEXTURES / "pebbles.png", "--out", tmp_path / "run", "--preset", "tiny", "--precision", "half")
    assert r.returncode != 0
    assert r.stderr.startswith("error: argument --precision: invalid choice: 'half'") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr
