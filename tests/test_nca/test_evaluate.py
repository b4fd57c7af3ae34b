import json

import torch
from PIL import Image

from nca.checkpoint import load_checkpoint
from nca.cli import main
from nca.config import ModelConfig, TrainConfig
from nca.image import image_to_tensor, load_style
from nca.model import NCA
from tests.conftest import TEXTURES, write_checkpoint


def untrained_run(tmp_path, seed_noise=0.0):
    """A checkpoint whose model never moves from its seed (grey, or noise), carrying pebbles as its style."""
    style, _ = load_style(TEXTURES / "pebbles.png", 48)
    style_u8 = (image_to_tensor(style)[0].permute(1, 2, 0) * 255 + 0.5).to(torch.uint8)
    path = write_checkpoint(tmp_path / "run" / "checkpoint.pt", NCA(ModelConfig()),
                            train_config=TrainConfig(seed_noise=seed_noise), style=style_u8)
    return path.parent


def test_evaluate_cli_reports_a_grey_texture_as_no_better_than_flat(tmp_path, capsys):
    run = untrained_run(tmp_path)
    code = main(["evaluate", str(run), "--size", "64", "--steps", "8,4", "--samples", "2", "--json",
                 "--save", str(tmp_path / "pictures"), "--device", "cpu"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 2 and report["size"] == 64
    assert set(report["steps"]) == {"4", "8"}
    for figures in report["steps"].values():
        # Grey is further from pebbles' colour statistics than pebbles' own mean colour is.
        assert figures["style_ratio"] > 1.0 and figures["balanced_ratio"] > 0.1
        assert figures["scale_ratio"] == 0.0  # a flat image has no features at all
    picture = Image.open(tmp_path / "pictures" / "run.png")
    picture.load()
    assert picture.width > 3 * 2 * 64  # the style and two rollouts, side by side at 2x


def test_evaluate_grows_from_the_noisy_seed_a_model_was_trained_from(tmp_path):
    from nca.evaluate import evaluate

    report = evaluate(untrained_run(tmp_path, seed_noise=0.3), size=64, steps=(4,), samples=2, device="cpu")
    # The state stays the seed: noise has features of every size (a grey seed scores 0.0 here).
    assert report["steps"][4]["scale_ratio"] > 0.5


def test_evaluate_cli_refuses_bad_step_lists(tmp_path, capsys):
    run = untrained_run(tmp_path)
    for steps in ("soon", "0", ","):
        assert main(["evaluate", str(run), "--steps", steps]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: --steps") and "\n" not in err


def test_the_style_is_judged_untiled_so_a_style_that_does_not_tile_is_its_own_good_texture(tmp_path):
    from nca.evaluate import style_figures, style_tensor
    from nca.image import tile
    from nca.verdict import MAX_STYLE, verdict
    from nca.vgg import VGGFeatures

    # One large teal disc on orange, 100 pixels wide: a tiled 128x128 copy cuts discs at its seams.
    y, x = torch.meshgrid(torch.arange(100.0), torch.arange(100.0), indexing="ij")
    disc = (((x - 50) ** 2 + (y - 50) ** 2) < 35**2).float()
    grain = torch.rand(100, 100, generator=torch.Generator().manual_seed(0)) * 0.2
    rgb = torch.stack([0.9 - 0.8 * disc, 0.5 + 0.1 * disc, 0.2 + 0.5 * disc], dim=-1) + grain[..., None]
    path = write_checkpoint(tmp_path / "run" / "checkpoint.pt", NCA(ModelConfig()),
                            style=(rgb.clamp(0, 1) * 255).to(torch.uint8))
    ckpt = load_checkpoint(path)
    figures = style_figures(ckpt, VGGFeatures())
    style = style_tensor(ckpt)
    assert verdict({2000: figures(style)})["verdict"] == "good"
    assert figures(tile(style, 128, 128))["style_ratio"] > MAX_STYLE  # why the reference is not the tiled copy
