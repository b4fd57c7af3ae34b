"""Sweeps on a real local Ray cluster with the tiny preset: rows, retries after a dead worker,
resuming after Ctrl-C, bad images as failed rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from nca.sweep import Judging, sweep
from nca.sweep.spec import product_trials
from tests.conftest import REPO, TEXTURES, interruptible

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
JUDGING = dict(steps=(16, 32), samples=2)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    yield
    ray.shutdown()


def rows(out):
    return {p.stem: json.loads(p.read_text()) for p in (out / "rows").glob("*.json")}


def test_a_2x2_sweep_writes_four_rows_a_table_a_sheet_and_the_best_of_each_image(local_ray, tmp_path):
    out = tmp_path / "sweep"
    result = sweep([TEXTURES / "pebbles.png", TEXTURES / "rust.png"], out, seeds=[0, 1], preset="tiny", **JUDGING)
    assert sorted(r["name"] for r in result) == ["pebbles-s0", "pebbles-s1", "rust-s0", "rust-s1"]
    assert all(r["status"] == "done" and set(r["steps"]) == {"16", "32"} for r in result)
    assert all((out / "runs" / r["name"] / "checkpoint.pt").is_file() for r in result)
    table = (out / "results.md").read_text()
    assert all(name in table for name in ("pebbles-s0", "rust-s1")) and (out / "contact_sheet.png").stat().st_size > 0
    assert set(json.loads((out / "best.json").read_text())) <= {"pebbles", "rust"}
    assert len(json.loads((out / "results.json").read_text())) == 4


def test_a_bad_image_is_one_failed_row_and_the_sweep_goes_on(local_ray, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    out = tmp_path / "sweep"
    result = {r["name"]: r for r in sweep([bad, TEXTURES / "pebbles.png"], out, preset="tiny", **JUDGING)}
    assert result["bad-s0"]["status"] == "failed" and "not an image" in result["bad-s0"]["error"]
    assert result["pebbles-s0"]["status"] == "done"


def test_options_that_cannot_work_stop_the_sweep_before_anything_trains(tmp_path):
    from nca.sweep import SweepError

    with pytest.raises(SweepError, match="grid must be between"):
        sweep([TEXTURES / "pebbles.png"], tmp_path / "x", preset="tiny", set={"grid": [8, 32]})
    assert not (tmp_path / "x" / "runs").exists()


def test_a_trial_whose_worker_is_killed_is_retried_and_the_table_is_complete(local_ray, tmp_path):
    out = tmp_path / "sweep"
    images = [TEXTURES / "pebbles.png", TEXTURES / "rust.png"]
    killed: dict[str, int] = {}

    def kill_one_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for pid_file in (out / "runs").glob("*/.trial_pid"):
                metrics = pid_file.parent / "metrics.jsonl"
                if metrics.is_file() and metrics.read_text().count("\n") >= 5:  # mid-training
                    pid = int(pid_file.read_text())
                    os.kill(pid, signal.SIGKILL)
                    killed[pid_file.parent.name] = pid
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    result = {r["name"]: r for r in sweep(images, out, seeds=[0], preset="tiny", set={"iterations": 200}, **JUDGING)}
    killer.join()
    assert killed, "no trial was caught mid-training"
    (name, pid), = killed.items()
    assert set(result) == {"pebbles-s0", "rust-s0"} and all(r["status"] == "done" for r in result.values())
    assert result[name]["attempt"] == 2 and result[name]["pid"] != pid
    assert result[name]["iterations"] == 200


def test_no_ray_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None; from nca.cli import main; "
            f"sys.exit(main(['sweep', {str(TEXTURES / 'pebbles.png')!r}, '--preset', 'tiny', '--out', {str(tmp_path / 'x')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: nca sweep needs Ray: pip install 'nca-studio[cluster]' (or pip install ray)"]


def test_a_ctrl_c_sweep_resumes_and_runs_only_the_missing_trials(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "nca.cli", "sweep", str(TEXTURES / "pebbles.png"), "--seeds", "0,1,2",
           "--preset", "tiny", "--set", "iterations=60", "--steps", "16,32", "--samples", "2", "--num-cpus", "1",
           "--out", str(out), "--export", str(tmp_path / "models")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((out / "rows").glob("*.json")):
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    first = rows(out)
    assert 1 <= len(first) < 3
    stamps = {n: (out / "rows" / f"{n}.json").stat().st_mtime_ns for n in first}

    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert set(rows(out)) == {"pebbles-s0", "pebbles-s1", "pebbles-s2"}
    assert all((out / "rows" / f"{n}.json").stat().st_mtime_ns == t for n, t in stamps.items())  # not redone
    bundles = sorted(p.parent.name for p in (tmp_path / "models").glob("*/model.json"))
    assert bundles == ["pebbles-s0", "pebbles-s1", "pebbles-s2"]  # --export: each trial as it finished


def test_trial_names_say_what_varies():
    trials = product_trials([TEXTURES / "pebbles.png"], [0], "tiny", {"lr": [1e-3, 2e-3], "iterations": [30]})
    assert [t.name for t in trials] == ["pebbles-s0-lr=0.001", "pebbles-s0-lr=0.002"]
    assert Judging().steps == (500, 2000, 5000)


def test_a_trial_of_a_preset_that_tries_again_keeps_the_second_try_and_is_not_redone(tmp_path):
    from nca.sweep.results import markdown
    from nca.sweep.trial import run_trial

    trial = product_trials([TEXTURES / "rust.png"], [0], "tiny", {"retry": ["longer"], "iterations": [3]})[0]
    run_dir = tmp_path / trial.name
    row = run_trial(trial, run_dir, Judging(**JUDGING))
    # The suite judges what a user gets: the run's own check decided on a second try, both are recorded.
    assert [t["name"] for t in row["tries"]] == ["random", "longer"] and [t["iterations"] for t in row["tries"]] == [3, 6]
    assert row["iterations"] in (3, 6) and (run_dir / "tries").is_dir()
    assert f"| {row['iterations']} (tries: random, longer) |" in markdown([row])
    trained = (run_dir / "resume.pt").stat().st_mtime_ns
    again = run_trial(trial, run_dir, Judging(**JUDGING))  # a finished run is judged again, not trained again
    assert (run_dir / "resume.pt").stat().st_mtime_ns == trained and again["tries"] == row["tries"]


def test_a_trial_whose_run_stopped_early_is_done_and_not_trained_on(tmp_path):
    from nca.sweep.spec import Judging
    from nca.sweep.trial import run_trial

    # Every probe of a tiny model scores under a million: the run ends at its first probe, 8 of 12.
    grid = {"iterations": [12], "probe_every": [4], "stop_below": [1e6]}
    trial = product_trials([TEXTURES / "pebbles.png"], [0], "tiny", grid)[0]
    run = tmp_path / trial.name
    first = run_trial(trial, run, Judging(**JUDGING))
    assert (first["status"], first["iterations"]) == ("done", 8)
    trained = (run / "metrics.jsonl").read_text()
    again = run_trial(trial, run, Judging(**JUDGING))  # the next attempt, after a worker died while judging
    assert (again["status"], again["iterations"]) == ("done", 8) and (run / "metrics.jsonl").read_text() == trained


def test_the_table_counts_what_blind_reviewers_called_the_style_s_texture():
    from nca.sweep.results import eye_answer, markdown

    def row(stem, ratio):
        steps = {str(n): {"style_ratio": ratio, "scale_ratio": 1.0, "contrast": 1.0} for n in (500, 2000, 5000)}
        return {"name": f"{stem}-s0", "image": f"{stem}.png", "seed": 0, "steps": steps, "verdict": "good"}

    rows = [row("leopard", 0.01), row("coins", 0.004), row("gold", 0.02)]
    eye = {"leopard": {"YES": 5}, "coins-s0": {"PARTLY": 5}, "gold": {"YES": 2, "PARTLY": 2}}
    table = markdown(rows, {"coins": "no whole coins"}, eye)
    # Good by the numbers, all three; the style's texture to most reviewers, one (a tie counts as the stricter answer).
    assert table.startswith("3 of 3 good. By eye, 1 of the 3 judged are the style's texture")
    assert "| good | PARTLY 5 | no whole coins |" in table and "| good | YES 2, PARTLY 2 |" in table
    assert (eye_answer({"YES": 2, "PARTLY": 2}), eye_answer({"NO": 1, "YES": 3}), eye_answer({})) == ("PARTLY", "YES", "")
    assert "by eye" not in markdown(rows)  # no reviews, no column
