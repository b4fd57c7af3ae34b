"""Serving small files (bundle files, previews) so that a file vanishing mid-request is a clean 404."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Response


def file_or_404(path: Path | None, media_type: str, missing: str, headers: dict[str, str] | None = None) -> Response:
    """The whole file read at once (bundle files and previews are small): a file deleted or replaced
    while it is served is a 404 or the complete old file, never a 500 or a truncated body."""
    try:
        if path is None:
            raise FileNotFoundError
        body = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise HTTPException(404, missing) from None
    return Response(body, media_type=media_type, headers=headers)
