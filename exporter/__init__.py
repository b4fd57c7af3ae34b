"""Checkpoint -> model bundle (GLSL ES 3.00 shaders + model.json + thumbnail) for the web engine.

    from exporter import export
    bundle_dir = export("runs/pebbles", "models", name="pebbles", html="pebbles.html")

Three pure stages (pack -> glsl literals -> render templates) and one writer (bundle); user
errors surface as ExportError with a one-line message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nca.checkpoint import CheckpointError, load_checkpoint
from nca.files import write_atomic

from .bundle import BUNDLE_NAME_RE, STUDIO_MODELS, model_json, write_bundle
from .html import standalone_html
from .pack import PackError, pack
from .render import RenderError, render_all
from .thumbnail import STEPS as THUMBNAIL_STEPS
from .thumbnail import thumbnail

__all__ = ["ExportError", "export", "validate_name"]



class ExportError(ValueError):
    """The export cannot be done; the message is one line for the user."""


def validate_name(name: str) -> str:
    if not BUNDLE_NAME_RE.match(name):
        raise ExportError(
            f"invalid bundle name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or digit "
            "(the studio lists a model under this name)")
    return name


def default_name(checkpoint_file: Path) -> str:
    """The run directory's name, made safe; 'model' when nothing usable is left."""
    base = checkpoint_file.parent.name if checkpoint_file.name == "checkpoint.pt" else checkpoint_file.stem
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-_")[:64]
    return cleaned if cleaned and BUNDLE_NAME_RE.match(cleaned) else "model"


def export(checkpoint_or_dir: str | Path, out_dir: str | Path = STUDIO_MODELS, name: str | None = None,
           html: str | Path | None = None, thumbnail_steps: int = THUMBNAIL_STEPS, force: bool = False,
           studio: dict[str, Any] | None = None) -> Path:
    """Export a checkpoint (file, run directory or bundle directory) to `out_dir/<name>/` (by default
    the studio's models folder, where `nca serve` lists it).

    Returns the bundle directory. With `html`, also writes a standalone single-file page there.
    An existing bundle of that name is replaced only with `force`. `studio` is the studio's own
    metadata of a model it trained (title, job_id, preset, created), written as studio.json.
    Nothing is written unless every stage succeeds.
    """
    if name is not None:
        validate_name(name)
    try:
        ckpt = load_checkpoint(checkpoint_or_dir)
    except CheckpointError as exc:
        raise ExportError(str(exc)) from None
    name = name or default_name(Path(ckpt.path))
    try:
        packed = pack(ckpt)
        sources = render_all(packed, name)
    except (PackError, RenderError) as exc:
        raise ExportError(str(exc)) from None
    info = model_json(ckpt, packed, name)
    thumb = thumbnail(ckpt, steps=thumbnail_steps)
    page = standalone_html(info, sources) if html is not None else None

    bundle_dir = Path(out_dir) / name
    if bundle_dir.resolve() == Path(ckpt.path).resolve().parent:
        raise ExportError(f"refusing to export {name!r} over the directory it is read from: choose another --out")
    if bundle_dir.exists() and not force:
        raise ExportError(f"{bundle_dir} already exists: pass --force to replace it, or choose another --name")
    try:
        write_bundle(bundle_dir, ckpt, info, sources, thumb, studio)
        if page is not None:
            write_atomic(Path(html), page)
    except OSError as exc:
        raise ExportError(f"cannot write the bundle: {exc.strerror or exc} ({exc.filename or bundle_dir})") from None
    return bundle_dir
