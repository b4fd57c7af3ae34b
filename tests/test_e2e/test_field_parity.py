"""Painted fields in the shader against nca/fields.py in PyTorch, in real headless Chromium.

A direction field, a scale field, a fire-rate field (the browser's own random masks replayed in
PyTorch by nca/cellhash.py) and a graft between two models: after 50 steps the shader's state equals
PyTorch's within the tolerance of the uniform parity tests. field.js's presets and brushes give
the field nca/fields.py computes.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest
import torch

from nca import fields
from nca.cellhash import shader_mask
from nca.checkpoint import load_checkpoint
from tests.test_e2e.test_parity import STEPS, H, W, boot, random_state, read_state, serve, to_b64

pytestmark = pytest.mark.browser

SEED = 7  # the engine's mask seed (nca.seed), replayed by shader_mask


def hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).contiguous().numpy()


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].contiguous()


def field_hwc(field: torch.Tensor) -> np.ndarray:
    return field.permute(1, 2, 0).contiguous().numpy()


def torch_rollout(ckpt, state, field, steps, angle=0.0, fire_rate=1.0, other=None, replay_masks=False):
    model = load_checkpoint(ckpt).build_model("cpu")
    second = load_checkpoint(other).build_model("cpu") if other else None
    x = nchw(state)
    rates = fields.fire_rates(field, fire_rate)
    with torch.no_grad():
        for step in range(steps):
            mask = shader_mask(rates, step, SEED) if replay_masks else torch.ones_like(rates)
            x = fields.field_step(model, x, field, other=second, angle=angle, mask=mask)
    return hwc(x)


def browser_rollout(page, state, field, steps, angle=0.0, fire_rate=1.0, graft=False):
    h, w, c = state.shape
    if graft:
        page.evaluate("window.nca.loadGraft('/graft/')")
    page.evaluate("(b64) => window.setState(b64)", to_b64(state))
    page.evaluate("(b64) => window.setField(b64)", to_b64(field_hwc(field)))
    page.evaluate("([n, a, f, s]) => { const m = window.nca; m.fireRate = f; m.angle = a; m.seed = s; m.step(n); }",
                  [steps, angle, fire_rate, SEED])
    return read_state(page, h, w, c)


def check(expected, got, start, label):
    err = float(np.abs(got - expected).max())
    print(f"{label}: max abs err {err:.3g} after {STEPS} steps (state range {np.abs(expected).max():.3g})")
    assert np.abs(expected - start).max() > 0.05, "the model barely moved: the test would prove nothing"
    assert err <= 1e-4


def test_direction_field_matches_pytorch(page, bundle_of):
    ckpt, bundle = bundle_of(12, 96)
    serve(page, bundle)
    assert boot(page, W, H) == "RGBA32F"
    field = fields.uniform_field(H, W)
    fields.set_direction(field, fields.direction_angles("vortex", H, W, x=0.3, y=0.6, angle=0.4))
    state = random_state(H, W, 12)
    expected = torch_rollout(ckpt, state, field, STEPS, angle=0.3)
    uniform = torch_rollout(ckpt, state, fields.uniform_field(H, W), STEPS, angle=0.3)
    assert np.abs(expected - uniform).max() > 0.05, "the field changed nothing"
    check(expected, browser_rollout(page, state, field, STEPS, angle=0.3), state, "vortex field")


def test_scale_field_matches_pytorch(page, bundle_of):
    ckpt, bundle = bundle_of(12, 96, seed=5)
    serve(page, bundle)
    boot(page, W, H)
    field = fields.uniform_field(H, W)
    fields.set_direction(field, fields.direction_angles("radial", H, W, x=0.6, y=0.4))
    fields.set_scale(field, fields.scale_factors("gradient", H, W, lo=0.5, hi=1.5))
    fields.paint(field, "scale", 2.0, 0.3, 0.5, 0.25, soft=0.5)  # a soft disc of scale 2 over the gradient
    k = fields.scales(field).numpy()
    assert k.min() < 0.6 and k.max() > 1.9
    state = random_state(H, W, 12, seed=5)
    expected = torch_rollout(ckpt, state, field, STEPS, angle=0.2)
    unscaled = fields.set_direction(fields.uniform_field(H, W), fields.direction_angles("radial", H, W, x=0.6, y=0.4))
    assert np.abs(expected - torch_rollout(ckpt, state, unscaled, STEPS, angle=0.2)).max() > 0.05, \
        "the scale changed nothing"
    check(expected, browser_rollout(page, state, field, STEPS, angle=0.2), state, "scale field")


def test_fire_rate_field_matches_pytorch_mask_for_mask(page, bundle_of):
    ckpt, bundle = bundle_of(12, 96, seed=3)
    serve(page, bundle)
    boot(page, W, H)
    field = fields.uniform_field(H, W)
    field[2] = fields.speed_factors("gradient", H, W, lo=0.0, hi=2.0).float()
    fields.paint(field, "speed", 0.0, 0.7, 0.5, 0.2)  # a frozen disc
    state = random_state(H, W, 12, seed=3)
    expected = torch_rollout(ckpt, state, field, STEPS, fire_rate=0.5, replay_masks=True)
    got = browser_rollout(page, state, field, STEPS, fire_rate=0.5)
    frozen = fields.brush_weights(H, W, 0.7, 0.5, 0.2).numpy() > 0
    assert np.array_equal(got[frozen], state[frozen]), "frozen cells changed"
    fired = np.any(got != state, axis=2).mean(axis=0)  # per column: the share of cells that ever fired
    assert fired[:4].mean() < fired[-4:].mean(), "the slow left side fired as often as the fast right"
    check(expected, got, state, "fire-rate field")


def test_graft_mix_matches_pytorch(page, bundle_of):
    ckpt_a, bundle_a = bundle_of(12, 96, seed=1)
    ckpt_b, bundle_b = bundle_of(12, 96, seed=2)
    serve(page, bundle_a, graft=bundle_b)
    boot(page, W, H)
    field = fields.uniform_field(H, W)
    fields.paint(field, "graft", 1.0, 0.5, 0.5, 0.35, soft=0.5)  # a soft-edged disc of model B
    fields.set_direction(field, fields.direction_angles("radial", H, W))
    mix = field[3].numpy()
    assert (mix == 1).any() and ((mix > 0) & (mix < 1)).any() and (mix == 0).any()
    state = random_state(H, W, 12, seed=4)
    expected = torch_rollout(ckpt_a, state, field, STEPS, other=ckpt_b)
    alone = torch_rollout(ckpt_a, state, field, STEPS)
    assert np.abs(expected - alone).max() > 0.05, "the graft changed nothing"
    check(expected, browser_rollout(page, state, field, STEPS, graft=True), state, "graft")
    assert page.evaluate("window.nca.graftName") == bundle_b.name


def test_graft_refuses_another_channel_count(page, bundle_of):
    _, bundle_a = bundle_of(12, 96)
    _, bundle_b = bundle_of(8, 16)
    serve(page, bundle_a, graft=bundle_b)
    boot(page, 16, 16)
    message = page.evaluate("window.nca.loadGraft('/graft/').then(() => 'grafted', (e) => e.message)")
    assert "8 channels" in message and "12 channels" in message


def test_field_js_presets_and_brushes_match_python(page, bundle_of):
    _, bundle = bundle_of(4, 8)
    serve(page, bundle)
    h, w = 24, 40
    boot(page, w, h)
    for kind in fields.DIRECTIONS:
        field = fields.uniform_field(h, w)
        fields.set_direction(field, fields.direction_angles(kind, h, w, x=0.25, y=0.7, angle=0.5))
        field[2] = fields.speed_factors("gradient", h, w, lo=0.1, hi=1.9).float()
        fields.set_scale(field, fields.scale_factors("gradient", h, w, lo=0.6, hi=1.8))
        for kind_, value, x, y, r, soft in (("scale", 2.5, 0.4, 0.3, 0.3, 0.5), ("direction", 1.1, 0.9, 0.1, 0.3, 0.0),
                                            ("speed", 0.0, 0.5, 0.5, 0.2, 0.0), ("graft", 1.0, 0.1, 0.95, 0.4, 0.6),
                                            ("graft", 0.0, 0.2, 0.9, 0.15, 0.3), ("scale", 9.0, 0.8, 0.8, 0.2, 0.0)):
            fields.paint(field, kind_, value, x, y, r, soft)
        js = page.evaluate("""([kind, h, w]) => { const m = window.nca;
            m.setScaleField({kind: 'uniform'});
            m.setDirectionField({kind, x: 0.25, y: 0.7, angle: 0.5}); m.setSpeedField({kind: 'gradient', lo: 0.1, hi: 1.9});
            m.setScaleField({kind: 'gradient', lo: 0.6, hi: 1.8}); m.clearGraftMix();
            m.paintField('scale', 2.5, 0.4, 0.3, 0.3, 0.5);
            m.paintField('direction', 1.1, 0.9, 0.1, 0.3); m.paintField('speed', 0.0, 0.5, 0.5, 0.2);
            m.paintField('graft', 1.0, 0.1, 0.95, 0.4, 0.6); m.paintField('graft', 0.0, 0.2, 0.9, 0.15, 0.3);
            m.paintField('scale', 9.0, 0.8, 0.8, 0.2);
            return window.readField(); }""", [kind, h, w])
        got = np.frombuffer(base64.b64decode(js), np.float32).reshape(h, w, 4)
        err = float(np.abs(got - field_hwc(field)).max())
        print(f"{kind}: field.js vs nca/fields.py max abs diff {err:.3g}")
        assert err <= 1e-6, kind
    assert not page.js_errors


def test_presets_survive_resize_and_old_angle_is_kept(page, bundle_of):
    _, bundle = bundle_of(4, 8)
    serve(page, bundle)
    boot(page, 16, 16)
    page.evaluate("window.nca.setDirectionField({kind: 'radial'}); window.nca.resize(32, 20);")
    got = np.frombuffer(base64.b64decode(page.evaluate("window.readField()")), np.float32).reshape(20, 32, 4)
    want = fields.set_direction(fields.uniform_field(20, 32), fields.direction_angles("radial", 20, 32))
    assert np.abs(got - field_hwc(want)).max() <= 1e-6
    assert math.isclose(float(got[10, 31, 0]), 1.0, abs_tol=0.05)  # right of the centre: angle ~0
