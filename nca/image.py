"""Loading style images safely: any PNG/JPEG mode, bombs refused, one-line errors."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

MIN_SIDE = 16
# Larger than any sensible style image; a decompression bomb declares far more.
MAX_PIXELS = 64 * 1024 * 1024


class ImageError(ValueError):
    """The style image cannot be used; the message is one line for the user."""


def open_image(source: str | Path | bytes) -> Image.Image:
    """Open and fully decode an image from a path or bytes, converted to 8-bit RGB."""
    name = "uploaded image" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"style image not found: {path}")
        if path.is_dir():
            raise ImageError(f"style image is a directory, not a file: {path}")
        if path.stat().st_size == 0:
            raise ImageError(f"style image is an empty file: {path}")
        data = path.read_bytes()
    else:
        data = source
        if not data:
            raise ImageError("uploaded image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageError(f"{name} is too large ({w}x{h}); the limit is {MAX_PIXELS // (1024 * 1024)} megapixels")
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} is too large (decompression bomb refused)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image (or not a format Pillow reads)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name} is truncated or corrupt ({exc})") from None
    if min(img.size) < MIN_SIDE:
        raise ImageError(f"{name} is {img.size[0]}x{img.size[1]}; style images need at least {MIN_SIDE} px per side")
    return to_rgb8(img)


def to_rgb8(img: Image.Image) -> Image.Image:
    """Grayscale, palette, RGBA (alpha dropped), 16-bit and float modes -> 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    return img.convert("RGB")


def resize_longest(img: Image.Image, max_side: int) -> Image.Image:
    """Downscale so the longest side is at most max_side; never upscale (that only blurs)."""
    w, h = img.size
    scale = max_side / max(w, h)
    if scale >= 1.0:
        return img
    size = (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> 1 x 3 x H x W float in [0, 1]."""
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def tensor_to_image(t: torch.Tensor) -> Image.Image:
    """3 x H x W (or 1 x 3 x H x W) in [0, 1] -> PIL RGB."""
    if t.dim() == 4:
        t = t[0]
    arr = (t.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def load_style(source: str | Path | bytes, max_side: int) -> tuple[Image.Image, str]:
    """The style image as used for training (RGB, resized) and the sha256 of the original bytes."""
    data = source if isinstance(source, bytes) else None
    img = open_image(source)
    if data is None:
        data = Path(source).read_bytes()
    return resize_longest(img, max_side), hashlib.sha256(data).hexdigest()


def tile(img: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Repeat a 1 x 3 x h x w image to cover height x width (a tiled view of a seamless texture)."""
    _, _, h, w = img.shape
    reps = (-(-height // h), -(-width // w))
    return img.repeat(1, 1, *reps)[:, :, :height, :width]
