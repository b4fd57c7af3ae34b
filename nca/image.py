"""Loading style images safely: any PNG/JPEG mode, bombs refused, one-line errors."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

# VGG halves the image four times before relu5_1, whose reflection padding needs 2 pixels: the
# style as trained on (after resizing) needs 32 on its short side.
MIN_SIDE = 32
# Larger than any sensible style image; a decompression bomb declares far more.
MAX_PIXELS = 64 * 1024 * 1024
# Huge images are box-filtered down to this longest side in their own mode right after decoding,
# so a 16-bit 8000x8000 PNG never becomes a float copy of itself (memory stays ~2x the decoded image).
DECODE_SIDE = 2048


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
            img.draft(img.mode, (DECODE_SIDE, DECODE_SIDE))  # JPEG: decode at a reduced scale; others ignore it
            img.load()
            img = _shrink(img, DECODE_SIDE)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} is too large (decompression bomb refused)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image (or not a format Pillow reads)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name} is truncated or corrupt ({exc})") from None
    if min(w, h) < MIN_SIDE:
        raise ImageError(f"{name} is {w}x{h}; style images need at least {MIN_SIDE} px per side")
    return to_rgb8(img)


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    w, h = img.size
    if max(w, h) <= max_side:
        return img
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Palette and bilevel images have no meaningful average: pick pixels.
    method = Image.Resampling.NEAREST if img.mode in ("P", "1") else Image.Resampling.BOX
    return img.resize(size, method)


def to_rgb8(img: Image.Image) -> Image.Image:
    """Grayscale, palette, RGBA (alpha dropped), 16-bit and float modes -> 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        img = Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    return img.convert("RGB")


def resize_longest(img: Image.Image, max_side: int) -> Image.Image:
    """Downscale so the longest side is at most max_side (aspect kept); never upscale (that only blurs).
    A short side that would end up under MIN_SIDE is an ImageError: VGG cannot see such a strip."""
    w, h = img.size
    scale = min(1.0, max_side / max(w, h))
    size = (round(w * scale), round(h * scale))
    if min(size) < MIN_SIDE:
        raise ImageError(f"the image is too narrow: {w}x{h} becomes {size[0]}x{size[1]} at a style size of "
                         f"{max_side} px, and its short side needs at least {MIN_SIDE} px; crop it closer to "
                         "a square or raise --style-size")
    return img if scale >= 1.0 else img.resize(size, Image.Resampling.LANCZOS)


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> 1 x 3 x H x W float in [0, 1]."""
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def tensor_to_image(t: torch.Tensor) -> Image.Image:
    """3 x H x W (or 1 x 3 x H x W) in [0, 1] -> PIL RGB."""
    if t.dim() == 4:
        t = t[0]
    arr = (t.detach().cpu().nan_to_num(0.0).clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def load_style(source: str | Path | bytes, max_side: int) -> tuple[Image.Image, str]:
    """The style image as used for training (RGB, resized) and the sha256 of the original bytes."""
    data = source if isinstance(source, bytes) else None
    img = open_image(source)
    if data is None:
        data = Path(source).read_bytes()
    return resize_longest(img, max_side), hashlib.sha256(data).hexdigest()


def scaled_style(img: Image.Image, k: float) -> Image.Image:
    """The style as a texture k times as large (training's target at perception scale k; sides >= 16)."""
    w, h = img.size
    return img.resize((max(16, round(w * k)), max(16, round(h * k))), Image.LANCZOS)


def tile(img: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Repeat a 1 x 3 x h x w image to cover height x width (a tiled view of a seamless texture)."""
    _, _, h, w = img.shape
    reps = (-(-height // h), -(-width // w))
    return img.repeat(1, 1, *reps)[:, :, :height, :width]
