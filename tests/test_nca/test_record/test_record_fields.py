"""`nca record` with painted fields: a direction preset, a frozen disc and a graft show where they should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from nca import fields
from nca.record import record
from tests.conftest import random_model, write_checkpoint


def frames(directory: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(f)).astype(int) for f in sorted(directory.glob("frame_*.png"))])


def render(tmp_path: Path, name: str, model=None, **options) -> np.ndarray:
    out = tmp_path / name
    record(model or random_model(8, 16, seed=1, scale=0.2), out, size="40x32", steps=24, steps_per_frame=4,
           device="cpu", progress=False, **options)
    return frames(out)


def test_direction_field_changes_the_texture_and_uniform_angle_matches_the_global_one(tmp_path):
    plain = render(tmp_path, "plain", angle=0.6)
    vortex = render(tmp_path, "vortex", field="vortex:x=0.3,y=0.6")
    assert np.abs(vortex[-1] - plain[-1]).max() > 20
    turned = render(tmp_path, "turned", field="uniform:angle=34.37746770784939")  # 0.6 rad as a field
    assert np.abs(turned[-1] - plain[-1]).max() <= 1  # the field's rotation is the global angle's


def test_frozen_disc_keeps_its_frame_and_the_rest_moves(tmp_path):
    got = render(tmp_path, "frozen", paint=["speed@8:x=0.5,y=0.5,r=0.25,factor=0"])
    inside = fields.brush_weights(32, 40, 0.5, 0.5, 0.25).numpy() > 0
    frame8, last = got[2], got[-1]  # frame 2 is step 8: the stroke is painted after that update
    assert np.array_equal(last[inside], frame8[inside])
    assert (np.abs(last[~inside] - frame8[~inside]).max(axis=-1) > 0).mean() > 0.5


def test_graft_runs_the_second_model_inside_its_disc_only(tmp_path):
    a = write_checkpoint(tmp_path / "a" / "checkpoint.pt", random_model(8, 16, seed=1, scale=0.2))
    b = write_checkpoint(tmp_path / "b" / "checkpoint.pt", random_model(8, 16, seed=2, scale=0.2))
    alone = render(tmp_path, "alone", model=a)
    grafted = render(tmp_path, "grafted", model=a, graft=b, paint=["graft@4:x=0.5,y=0.5,r=0.3,soft=0"])
    other = render(tmp_path, "other", model=b)
    inside = fields.brush_weights(32, 40, 0.5, 0.5, 0.3).numpy() > 0
    # Step 4: painted, not yet stepped; the painted path steps through perceive + update, the plain one
    # through the fused forward, so the frames agree up to a grey level of rounding.
    assert np.abs(grafted[1] - alone[1]).max() <= 1
    diff = np.abs(grafted[-1] - alone[-1]).max(axis=-1)
    assert diff[inside].mean() > 5 * max(diff[~inside].mean(), 0.2)  # the change is inside (and its edge)
    # Deep inside the disc the grafted cells follow the second model's rule, not the first's.
    core = fields.brush_weights(32, 40, 0.5, 0.5, 0.12).numpy() > 0
    assert np.abs(grafted[-1][core] - other[-1][core]).mean() < np.abs(grafted[-1][core] - alone[-1][core]).mean()


def test_scale_field_and_strokes_change_the_texture_where_they_are(tmp_path):
    plain = render(tmp_path, "plain")
    graded = render(tmp_path, "graded", scale_field="gradient:lo=0.5,hi=2")
    assert np.abs(graded[-1] - plain[-1]).max() > 20
    got = render(tmp_path, "stroke", paint=["scale@1:x=0.5,y=0.5,r=0.25,k=2.5,soft=0"])
    inside = fields.brush_weights(32, 40, 0.5, 0.5, 0.25).numpy() > 0
    diff = np.abs(got[-1] - plain[-1]).max(axis=-1)
    assert diff[inside].mean() > 5 * max(diff[~inside].mean(), 0.2)  # the change is inside (and its edge)
