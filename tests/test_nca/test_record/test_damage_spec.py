"""The --damage spec parser and the damage masks (no model, no video)."""

from __future__ import annotations

import pytest
import torch

from nca.record.damage import DamageError, apply_damage, parse_damage, region_mask, validate_schedule


@pytest.mark.parametrize(("spec", "kind", "step", "params"), [
    ("circle@600:x=0.5,y=0.5,r=0.25", "circle", 600, {"x": 0.5, "y": 0.5, "r": 0.25}),
    ("circle@10", "circle", 10, {"x": 0.5, "y": 0.5, "r": 0.25}),
    ("half@1200:side=left", "half", 1200, {"side": "left"}),
    ("half@5:side=bottom", "half", 5, {"side": "bottom"}),
    ("noise@1800:r=0.3", "noise", 1800, {"x": 0.5, "y": 0.5, "r": 0.3, "amp": 1.0}),
    ("reset@2400", "reset", 2400, {}),
    (" Circle@7: x=0.1 , r=0.5 ", "circle", 7, {"x": 0.1, "y": 0.5, "r": 0.5}),
])
def test_parse_good_specs(spec, kind, step, params):
    d = parse_damage(spec)
    assert (d.kind, d.step, d.params) == (kind, step, params)
    assert str(d) == spec.strip()


@pytest.mark.parametrize(("spec", "message"), [
    ("square@10", "unknown damage kind 'square'"),
    ("circle", "expected KIND@STEP"),
    ("circle@soon", "bad damage step"),
    ("circle@10:z=1", "bad parameter 'z=1'"),
    ("circle@10:r", "bad parameter 'r'"),
    ("circle@10:r=big", "bad number"),
    ("circle@10:x=1.5", "out of range"),
    ("circle@10:r=0", "out of range"),
    ("half@10:side=middle", "bad side 'middle'"),
    ("reset@10:r=0.2", "its parameters: none"),
])
def test_parse_bad_specs(spec, message):
    with pytest.raises(DamageError, match=message) as info:
        parse_damage(spec)
    assert "\n" not in str(info.value)


def test_masks_cover_the_named_region():
    circle = region_mask(parse_damage("circle@1:x=0.25,y=0.5,r=0.25"), 32, 64)
    assert circle[16, 16] and not circle[16, 40] and not circle[0, 16]
    assert circle.sum() == pytest.approx(3.1416 * 8**2, rel=0.1)  # r = a quarter of the shorter side
    left = region_mask(parse_damage("half@1:side=left"), 8, 10)
    assert left[:, :5].all() and not left[:, 5:].any()
    bottom = region_mask(parse_damage("half@1:side=bottom"), 8, 10)
    assert bottom[4:].all() and not bottom[:4].any()
    assert region_mask(parse_damage("reset@1"), 5, 7).all()
    assert parse_damage("half@1:side=right").box(8, 10) == (0, 5, 8, 10)


def test_apply_erases_to_the_seed_and_noise_fills():
    x = torch.ones(1, 4, 8, 8)
    seed = torch.zeros(1, 4, 8, 8)
    out = apply_damage(parse_damage("half@1:side=top"), x, seed)
    assert (out[:, :, :4] == 0).all() and (out[:, :, 4:] == 1).all()
    noise = torch.full((8, 8, 8), -0.5)  # more channels than the state: sliced
    out = apply_damage(parse_damage("noise@1:r=2,amp=0.5"), x, seed, noise)
    assert torch.equal(out, torch.full_like(x, -0.25))


def test_schedule_is_sorted_and_checked_against_the_run():
    specs = [parse_damage(s) for s in ("reset@30", "circle@10", "half@30")]
    assert [str(d) for d in validate_schedule(specs, 40)] == ["circle@10", "reset@30", "half@30"]
    with pytest.raises(DamageError, match="outside the run: use a step from 1 to 29"):
        validate_schedule(specs, 30)
    with pytest.raises(DamageError, match="outside the run"):
        validate_schedule([parse_damage("circle@0")], 30)
