import pytest
import torch

from nca.evaluate import Figures
from nca.image import image_to_tensor, load_style
from nca.verdict import MAX_BALANCED, MAX_STYLE
from nca.vgg import STYLE_LAYERS, StyleLoss, VGGFeatures, WeightsError, default_weights_path, flat_image
from tests.conftest import TEXTURES


@pytest.fixture(scope="module")
def vgg():
    return VGGFeatures()


def test_real_weights_load_and_give_the_expected_gram_shapes(vgg):
    assert default_weights_path().name == "vgg_normalised.pth"
    feats = vgg(torch.rand(2, 3, 64, 64))
    assert len(feats) == len(STYLE_LAYERS)
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    assert [f.shape[2] for f in feats] == [64, 32, 16, 8, 4]
    loss = StyleLoss(vgg, torch.rand(1, 3, 64, 64))
    assert [g.shape for g in loss.target_grams] == [(1, c, c) for c in (64, 128, 256, 512, 512)]
    assert not any(p.requires_grad for p in vgg.parameters())


def test_first_layer_turns_rgb_into_mean_subtracted_bgr(vgg):
    white = vgg.prep(torch.ones(1, 3, 1, 1)).flatten()
    # BGR * 255 minus the ImageNet means (B, G, R) = (103.939, 116.779, 123.68)
    assert torch.allclose(white, torch.tensor([255 - 103.939, 255 - 116.779, 255 - 123.68]), atol=0.01)


def test_style_loss_tells_textures_apart(vgg):
    def style(name):
        img, _ = load_style(TEXTURES / name, 96)
        return image_to_tensor(img)[:, :, :64, :64]

    pebbles, leopard = style("pebbles.png"), style("leopard.png")
    for kind in ("gram", "swd"):
        loss = StyleLoss(vgg, pebbles, kind=kind)
        gen = torch.Generator().manual_seed(0)
        same = float(loss(torch.roll(pebbles, (20, 13), (2, 3)), generator=gen))
        other = float(loss(leopard, generator=gen))
        flat = float(loss(pebbles.mean(dim=(2, 3), keepdim=True).expand_as(pebbles), generator=gen))
        assert same < 0.2 * other, kind
        assert same < 0.2 * flat, kind


def test_gram_balances(vgg):
    gen = torch.Generator().manual_seed(0)
    target, image = torch.rand(1, 3, 64, 64, generator=gen), torch.rand(2, 3, 64, 64, generator=gen)
    plain = StyleLoss(vgg, target, balance="none")
    layered = StyleLoss(vgg, target, balance="layer")
    feats = vgg(image)
    # "none" is the textbook sum of the five layers' Gram distances, scaled by one constant.
    sizes = [float(g.square().mean()) for g in plain.target_grams]
    assert float(plain.gram_loss(feats)) == pytest.approx(float(plain.raw_gram_loss(feats)) / sum(sizes), rel=1e-5)
    # The target Grams' magnitudes differ by orders of magnitude between layers; "layer" evens them out.
    assert max(sizes) / min(sizes) > 100
    assert layered.gram_scales[0] != layered.gram_scales[4]
    with pytest.raises(ValueError, match="balance"):
        StyleLoss(vgg, target, balance="both")


def test_bars_balance_weighs_the_verdicts_two_ratios(vgg):
    """"bars" is what the closing check judges: the style ratio plus the balanced ratio times
    MAX_STYLE / MAX_BALANCED, so a flat image scores 1 + 0.05 / 0.35 and the style itself 0."""
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(1, 3, 64, 64, generator=gen)
    bars = StyleLoss(vgg, target, balance="bars")
    flat = flat_image(target)
    assert float(bars(flat)) == pytest.approx(1 + MAX_STYLE / MAX_BALANCED, rel=1e-4)
    assert float(bars(target)) == pytest.approx(0.0, abs=1e-6)
    image = torch.rand(2, 3, 64, 64, generator=gen) * 0.5 + 0.25
    figures = Figures(target, vgg)(image)
    expected = figures["style_ratio"] + MAX_STYLE / MAX_BALANCED * figures["balanced_ratio"]
    assert float(bars(image)) == pytest.approx(expected, rel=1e-3)


def test_max_pool_variant_differs(vgg):
    x = torch.rand(1, 3, 32, 32)
    maxed = VGGFeatures(pool="max")
    assert not torch.allclose(vgg(x)[2], maxed(x)[2])


def test_unreadable_weights_file_gives_one_clear_error(tmp_path):
    bad = tmp_path / "vgg.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="cannot read VGG weights"):
        VGGFeatures(bad)
    with pytest.raises(WeightsError, match="not found"):
        VGGFeatures(tmp_path / "missing.pth")
    torch.save({"0.weight": torch.zeros(3, 3, 1, 1)}, bad)
    with pytest.raises(WeightsError, match="not a normalised VGG-19"):
        VGGFeatures(bad)
