"""The upload size limit, enforced twice: from Content-Length before the multipart parser reads
the body, and while a route reads an upload that came without a length."""

from __future__ import annotations

from fastapi import HTTPException, UploadFile
from fastapi.responses import JSONResponse

from .settings import Settings

UPLOAD_PATH = "/api/jobs"
# Multipart overhead on top of the image itself: a few KB; allow 1 MiB of slack.
MULTIPART_SLACK = 1024 * 1024


class UploadSizeLimit:
    """ASGI middleware: a POST to the upload route declaring more than `limit` bytes is a 413 at once."""

    def __init__(self, app, limit: int, text: str):
        self.app = app
        self.limit = limit
        self.text = text

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                response = JSONResponse({"detail": f"the upload is larger than the {self.text} limit"}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def read_upload(upload: UploadFile, settings: Settings) -> bytes:
    """The whole upload, or a 413 once it passes the limit (reading at most one byte more)."""
    data = upload.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"the image is larger than the {settings.upload_limit_text} limit")
    return data
