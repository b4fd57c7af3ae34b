"""What a recording is asked for: its size, its format and whole-number options, checked before any work."""

from __future__ import annotations

from pathlib import Path

from .errors import RecordError

FORMATS = ("mp4", "gif", "webm", "frames")
MAX_SIDE = 4096


def parse_size(text: str | int | tuple[int, int]) -> tuple[int, int]:
    """'256' -> (256, 256); '512x288' -> (width 512, height 288)."""
    if isinstance(text, int):
        w = h = text
    elif isinstance(text, tuple):
        w, h = text
    else:
        parts = str(text).lower().split("x")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            raise RecordError(f"bad size {text!r}: use N or WIDTHxHEIGHT, e.g. 256 or 512x288") from None
        if len(nums) not in (1, 2):
            raise RecordError(f"bad size {text!r}: use N or WIDTHxHEIGHT, e.g. 256 or 512x288")
        w, h = nums[0], nums[-1]
    if not (8 <= w <= MAX_SIDE and 8 <= h <= MAX_SIDE):
        raise RecordError(f"size {w}x{h} is out of range: each side must be from 8 to {MAX_SIDE}")
    return w, h


def format_for(out: Path, fmt: str | None) -> str:
    """--format wins; otherwise the extension decides, and no extension means a frames directory."""
    if fmt:
        if fmt not in FORMATS:
            raise RecordError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    ext = out.suffix.lower().lstrip(".")
    if ext in ("mp4", "gif", "webm"):
        return ext
    if not ext:
        return "frames"
    raise RecordError(f"cannot tell the format from {out.name!r}; use .mp4, .gif, .webm, a directory, or --format")


def check_int(name: str, value: int, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        bound = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
        raise RecordError(f"{name} must be a whole number {bound}, got {value!r}")
    return value
