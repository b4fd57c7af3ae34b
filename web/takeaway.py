"""What a user takes away from the studio: a model's bundle as a zip, its checkpoint, its standalone page.

    GET /api/models/{id}/bundle.zip       <id>/model.json, the shaders, thumbnail.png, checkpoint.pt
    GET /api/models/{id}/checkpoint.pt    loads with nca.checkpoint.load_checkpoint (and `nca record`)
    GET /api/models/{id}/standalone.html  one file that runs the model with no server (exporter.html)

Every answer is an attachment named after the model's title (ASCII, safe in a header).
"""

from __future__ import annotations

import io
import re
import zipfile

from exporter.html import standalone_html_for_bundle

from .store import BUNDLE_FILE_RE, ModelEntry


def download_stem(entry: ModelEntry) -> str:
    """The model's title as a file name ('My leopard!' -> 'My-leopard'); its id when nothing is left."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", entry.title).strip("-._")[:64]
    return stem or entry.id


def attachment(filename: str) -> dict[str, str]:
    """Headers of a download: the browser saves it under `filename` and never sniffs another type."""
    return {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache"}


def bundle_zip(entry: ModelEntry) -> bytes:
    """The bundle directory as a zip whose one folder is named after the id (the bundle's name), so
    unzipping gives a bundle that `nca record`, `nca export` and the studio's --models read.
    Raises FileNotFoundError when the bundle vanishes meanwhile."""
    names = sorted(p.name for p in entry.dir.iterdir() if p.is_file() and BUNDLE_FILE_RE.match(p.name))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.writestr(f"{entry.id}/{name}", (entry.dir / name).read_bytes())
    return buf.getvalue()


def standalone_page(entry: ModelEntry) -> str:
    """The standalone HTML page of this bundle (what `nca export --html` writes), titled like its card."""
    return standalone_html_for_bundle(entry.dir, title=entry.title)
