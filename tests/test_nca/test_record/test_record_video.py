"""`nca record`: the written files decode with the promised frames, size and timing, the same
seed gives the same frames, and damage shows (then heals) where it should. Random models, CPU."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from nca.record import GRID_GAP, main, record
from nca.record.damage import parse_damage
from tests.conftest import random_model, write_checkpoint

SEED_GREY = 128  # a zero seed shows clamp(0 + 0.5) = 0.5 -> round(127.5) = 128


def read_frames(directory: Path) -> np.ndarray:
    files = sorted(directory.glob("frame_*.png"))
    return np.stack([np.asarray(Image.open(f)) for f in files])


@pytest.mark.parametrize(("ext", "codec"), [("mp4", "h264"), ("webm", "vp9")])
def test_video_decodes_with_expected_frames_size_and_fps(make_checkpoint, tmp_path, capsys, ext, codec):
    out = tmp_path / f"growth.{ext}"
    code = main([str(make_checkpoint()), "--out", str(out), "--size", "64x48", "--steps", "40",
                 "--steps-per-frame", "4", "--fps", "12", "--device", "cpu"])
    assert code == 0
    frames = iio.imread(out, index=None)
    assert frames.shape == (11, 48, 64, 3)  # steps 0, 4, ..., 40
    meta = iio.immeta(out)
    assert meta["fps"] == 12 and meta["codec"] == codec and meta["pix_fmt"].startswith("yuv420p")
    assert f"wrote {out}" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [out.name]  # no temp file left
    again = tmp_path / f"again.{ext}"
    main([str(make_checkpoint()), "--out", str(again), "--size", "64x48", "--steps", "40",
          "--steps-per-frame", "4", "--fps", "12", "--device", "cpu"])
    assert np.array_equal(iio.imread(again, index=None), frames)  # the encoder is deterministic too


def test_gif_loops_forever_at_the_asked_rate(tmp_path):
    out = tmp_path / "a.gif"
    result = record(random_model(), out, size=40, steps=30, steps_per_frame=3, fps=30, device="cpu")
    assert result.frames == 11
    frames = iio.imread(out, index=None)
    assert frames.shape == (11, 40, 40, 3)
    with Image.open(out) as im:
        assert im.info["loop"] == 0
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
    assert sum(delays) == pytest.approx(11 * 1000 / 30, abs=10)  # 30/40 ms alternate: 30 fps on average


def test_frames_format_writes_numbered_pngs_and_scales(tmp_path):
    out = tmp_path / "frames"
    result = record(random_model(), out, size="24x16", steps=8, steps_per_frame=2, scale=3, device="cpu")
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(5)]
    assert read_frames(out).shape == (5, 48, 72, 3)
    assert (result.format, result.width, result.height) == ("frames", 72, 48)
    # Nearest-neighbour: every 3x3 block is one cell.
    last = read_frames(out)[-1]
    assert (last == last[::3, ::3].repeat(3, 0).repeat(3, 1)).all()


def test_same_seed_same_frames_other_seed_other_frames(tmp_path):
    opts = dict(size=32, steps=24, steps_per_frame=4, device="cpu", damage=["noise@8:r=0.3"], repair=False)
    record(random_model(), tmp_path / "a", seed=3, **opts)
    record(random_model(), tmp_path / "b", seed=3, **opts)
    record(random_model(), tmp_path / "c", seed=4, **opts)
    a, b, c = (read_frames(tmp_path / n) for n in "abc")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("spec", ["circle@20:x=0.5,y=0.5,r=0.25", "half@20:side=left", "reset@20"])
def test_damaged_region_is_seed_grey_then_regrows(tmp_path, spec):
    out = tmp_path / "frames"
    record(random_model(), out, size=48, steps=60, steps_per_frame=4, damage=[spec], repair=False, device="cpu")
    frames = read_frames(out)
    mask = parse_damage(spec).mask(48, 48).numpy()
    before, hit, later = frames[4], frames[5], frames[15]  # steps 16, 20 (damage), 60
    assert (before[mask] != SEED_GREY).any(axis=1).mean() > 0.9  # there was texture to destroy
    assert (hit[mask] == SEED_GREY).all()  # erased to the seed colour in the frame of the damage step
    if not mask.all():
        assert (hit[~mask] != SEED_GREY).any(axis=1).mean() > 0.9  # only there
    regrown = later[mask].astype(float)
    assert (later[mask] != SEED_GREY).any(axis=1).mean() > 0.9  # no longer the seed...
    assert np.abs(regrown - SEED_GREY).mean() > 10 and regrown.std(axis=0).max() > 5  # ...but a varied texture


def test_grid_renders_models_side_by_side_with_the_same_damage(tmp_path):
    out = tmp_path / "grid"
    result = record(random_model(seed=0), out, grid=[random_model(seed=1)], size=32, steps=12, steps_per_frame=4,
                    damage=["half@8:side=top"], repair=False, device="cpu")
    frames = read_frames(out)
    assert frames.shape == (4, 32, 2 * 32 + GRID_GAP, 3) and result.width == 66
    left, right = frames[:, :, :32], frames[:, :, 32 + GRID_GAP:]
    assert not np.array_equal(left[-1], right[-1])  # two different models
    for panel in (left, right):
        assert (panel[2, :16] == SEED_GREY).all() and (panel[2, 16:] != SEED_GREY).any()


def test_overlay_draws_the_step_counter(tmp_path):
    opts = dict(size=64, steps=8, steps_per_frame=8, device="cpu")
    record(random_model(), tmp_path / "plain", **opts)
    record(random_model(), tmp_path / "text", overlay=True, **opts)
    plain, text = read_frames(tmp_path / "plain"), read_frames(tmp_path / "text")
    corner = (slice(0, 12), slice(0, 40))
    assert not np.array_equal(plain[1][corner], text[1][corner])
    assert np.array_equal(plain[1][40:], text[1][40:])  # the rest of the frame is untouched
    assert not np.array_equal(text[0][corner], text[1][corner])  # "step 0" vs "step 8"


def test_repair_figure_for_each_event_and_model(tmp_path, capsys):
    model_dir = tmp_path / "run"
    code = main([str(_checkpoint(model_dir)), "--out", str(tmp_path / "r.gif"), "--size", "48", "--steps", "48",
                 "--damage", "circle@16:r=0.3", "--damage", "reset@32", "--grid", str(model_dir), "--device", "cpu"])
    assert code == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("repair ")]
    assert len(lines) == 4  # 2 events x 2 models
    assert lines[0].startswith("repair run #1: circle@16:r=0.3: ")
    assert all(("recovered after" in line) or ("not recovered by step" in line) for line in lines)


def test_repair_figure_records_steps_and_baseline(tmp_path):
    result = record(random_model(), tmp_path / "r", size=48, steps=48, steps_per_frame=8,
                    damage=["half@16:side=right"], device="cpu")
    (figure,) = result.repairs
    assert figure.damage == "half@16:side=right" and figure.step == 16 and figure.baseline > 0
    assert figure.steps is None or (figure.steps > 0 and figure.steps % figure.every == 0)


def test_repair_figure_is_not_made_up_when_the_region_is_the_whole_frame(tmp_path):
    # At 32x32 a half, grown to the 32 px VGG minimum, is the whole frame: nothing to compare it with.
    result = record(random_model(), tmp_path / "r", size=32, steps=32, steps_per_frame=8,
                    damage=["reset@8", "half@16:side=left"], device="cpu")
    assert [f.steps for f in result.repairs] == [None, None]
    assert all("not measured (the region covers the whole 32x32 frame" in str(f) for f in result.repairs)


def _checkpoint(run_dir: Path) -> Path:
    write_checkpoint(run_dir / "checkpoint.pt", meta={})
    return run_dir


def test_progress_bars_redraw_on_a_terminal_and_write_lines_in_a_log(monkeypatch):
    import io

    from nca.progress import progress_bar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    for stream, tty in ((Tty(), True), (io.StringIO(), False)):
        monkeypatch.setattr("sys.stderr", stream)
        bar = progress_bar(4, unit="frame")
        for _ in range(4):
            bar.update(1)
        bar.close()
        text = stream.getvalue()
        assert "4/4" in text and "frame" in text
        assert ("\r" in text) is tty  # a log gets whole lines, no carriage returns
    quiet = Tty()
    monkeypatch.setattr("sys.stderr", quiet)
    bar = progress_bar(4, enabled=False)
    bar.update(4)
    bar.close()
    assert quiet.getvalue() == ""


def test_repair_measured_against_the_style_image_when_the_checkpoint_has_one(make_checkpoint, tmp_path,
                                                                            monkeypatch):
    import importlib

    import torch

    rec = importlib.import_module("nca.record.render")

    real = rec.load_checkpoint

    def with_style(path):
        ckpt = real(path)
        ckpt.style_image = torch.randint(0, 256, (40, 48, 3), dtype=torch.uint8)  # as train stores it
        return ckpt

    monkeypatch.setattr(rec, "load_checkpoint", with_style)
    # With a style image even a whole-frame reset has a figure: the frame is compared with the style.
    result = record(make_checkpoint(), tmp_path / "r.gif", size=32, steps=32, steps_per_frame=8,
                    damage=["reset@8"], device="cpu")
    (figure,) = result.repairs
    assert figure.note == "" and figure.baseline > 0


def test_repair_not_measured_on_frames_too_small_for_vgg(tmp_path):
    result = record(random_model(), tmp_path / "r.gif", size=24, steps=16, damage=["circle@8"], device="cpu")
    assert "not measured (VGG needs a frame of at least 32x32)" in str(result.repairs[0])
