"""Preview images written into a run directory: pool samples, a long rollout, the loss curve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from .image import image_to_tensor, tensor_to_image, tile
from .model import NCA, to_rgb
from .rollouts import make_rollout

ROLLOUT_STEPS = 1000


def image_grid(images: list[Image.Image], pad: int = 2) -> Image.Image:
    w = sum(im.width for im in images) + pad * (len(images) - 1)
    h = max(im.height for im in images)
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    x = 0
    for im in images:
        canvas.paste(im, (x, 0))
        x += im.width + pad
    return canvas


def write_pool_preview(out: Path, x: torch.Tensor) -> Path:
    rgb = to_rgb(x)
    images = [tensor_to_image(rgb[i]).resize((rgb.shape[3] * 2, rgb.shape[2] * 2), Image.Resampling.NEAREST)
              for i in range(rgb.shape[0])]
    path = out / "preview_pool.png"
    image_grid(images).save(path)
    return path


@torch.no_grad()
def write_rollout_preview(out: Path, model: NCA, size: int, steps: int = ROLLOUT_STEPS) -> Path:
    """The style image tiled to size x size beside the texture the model grows from the seed in `steps` steps."""
    gen = torch.Generator(device=model.w1.device).manual_seed(0)
    x = make_rollout(model, compile_step=False)(model.seed(1, size, size), steps, gen)  # one sample: not worth compiling
    grown = tensor_to_image(to_rgb(x))
    style = Image.open(out / "style.png").convert("RGB")
    tiled = tensor_to_image(tile(image_to_tensor(style), size, size))
    path = out / "preview_rollout.png"
    image_grid([tiled, grown], pad=4).save(path)
    return path


def write_loss_curve(out: Path, width: int = 480, height: int = 240) -> Path | None:
    """Log-scale loss per iteration, drawn with PIL so no plotting library is needed."""
    points = []
    metrics = out / "metrics.jsonl"
    if not metrics.exists():
        return None
    for line in metrics.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        loss = rec.get("loss")
        if isinstance(loss, (int, float)) and loss > 0 and math.isfinite(loss):
            points.append((rec["iteration"], math.log10(loss)))
    if len(points) < 2:
        return None
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    margin = 40
    x0, x1 = points[0][0], points[-1][0]
    ys = [p[1] for p in points]
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-9:
        y1 = y0 + 1
    def to_px(p):
        x = margin + (p[0] - x0) / max(1, x1 - x0) * (width - 2 * margin)
        y = height - margin - (p[1] - y0) / (y1 - y0) * (height - 2 * margin)
        return (x, y)
    draw.rectangle([margin, margin, width - margin, height - margin], outline=(180, 180, 180))
    draw.line([to_px(p) for p in points], fill=(200, 60, 40), width=1)
    draw.text((margin, 8), f"loss (log10) {10 ** y1:.3g} .. {10 ** y0:.3g}", fill=(0, 0, 0))
    draw.text((margin, height - margin + 8), f"iteration {x0} .. {x1}", fill=(0, 0, 0))
    path = out / "loss.png"
    img.save(path)
    return path
