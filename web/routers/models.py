"""/api/models: the gallery (bundled + trained here), each model's downloads (bundle zip, checkpoint,
standalone page) and server-rendered videos; /bundles/{id}/{file}: bundle files for the engine."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute

from nca.checkpoint import CHECKPOINT_NAME
from nca.verdict import VERDICTS

from ..deps import AppSettings, Store, Videos
from ..files import file_or_404
from ..schemas import ErrorResponse, ModelDetail, ModelSummary
from ..store import ModelEntry, ModelStore
from ..takeaway import attachment, bundle_zip, download_stem, standalone_page
from ..videos import ClientGone, VideoError, VideoRequest, check

router = APIRouter(prefix="/api/models", tags=["models"])
files = APIRouter(tags=["models"])

NOT_FOUND = {404: {"model": ErrorResponse, "description": "no model with this id"}}
DOWNLOADS = {"bundle": "bundle.zip", "checkpoint": "checkpoint.pt", "standalone": "standalone.html"}


def _get(store: ModelStore, model_id: str) -> ModelEntry:
    entry = store.get(model_id)
    if entry is None:
        raise HTTPException(404, f"no model {model_id!r}" if len(model_id) <= 64 else "no such model")
    return entry


def summary(entry: ModelEntry, grafts_with: list[str] | None = None) -> dict:
    info = entry.info
    return {
        "id": entry.id,
        "name": entry.title,
        "bundled": entry.bundled,
        "channels": int(info.get("channels", 0)),
        "hidden": int(info.get("hidden", 0)),
        "parameter_count": int(info.get("parameter_count", 0)),
        "created": entry.created,
        "bundle_url": f"/bundles/{entry.id}/",
        "thumbnail_url": f"/bundles/{entry.id}/{info.get('thumbnail', 'thumbnail.png')}",
        "downloads": {kind: f"/api/models/{entry.id}/{file}" for kind, file in DOWNLOADS.items()},
        "job_id": entry.studio.get("job_id"),
        "training": info.get("training") or {},
        "verdict": verdict if (verdict := (info.get("quality") or {}).get("verdict")) in VERDICTS else None,
        "quality": info.get("quality") or {},
        "grafts_with": grafts_with or [],
    }


@router.get("", response_model=list[ModelSummary], summary="List the gallery: bundled models, then trained ones")
def list_models(store: Store) -> list[dict]:
    entries = store.list()
    pairs = store.graft_pairs()
    return [summary(e, store.grafts_with(e, entries, pairs)) for e in entries]


@router.get("/{model_id}", response_model=ModelDetail, responses=NOT_FOUND, summary="One model's metadata")
def get_model(model_id: str, store: Store) -> dict:
    entry = _get(store, model_id)
    return {**summary(entry, store.grafts_with(entry, store.list(), store.graft_pairs())), "bundle": entry.info}


@router.delete("/{model_id}", status_code=204, summary="Delete a trained model (bundled ones are read-only)",
               responses={**NOT_FOUND, 403: {"model": ErrorResponse, "description": "a bundled model"}})
def delete_model(model_id: str, store: Store) -> Response:
    entry = _get(store, model_id)
    if entry.bundled:
        raise HTTPException(403, "bundled models are read-only and cannot be deleted")
    store.delete(entry)
    return Response(status_code=204)


# ---- take it away: downloads of one model ---------------------------------------------------------

@router.get("/{model_id}/bundle.zip", responses=NOT_FOUND, response_class=Response,
            summary="The model bundle as a zip: <id>/model.json, shaders, thumbnail, checkpoint")
def download_bundle(model_id: str, store: Store) -> Response:
    entry = _get(store, model_id)
    try:
        body = bundle_zip(entry)
    except (FileNotFoundError, NotADirectoryError):
        raise HTTPException(404, "no such model") from None
    return Response(body, media_type="application/zip", headers=attachment(f"{download_stem(entry)}.zip"))


@router.get("/{model_id}/checkpoint.pt", responses=NOT_FOUND, response_class=Response,
            summary="The PyTorch checkpoint (nca.checkpoint.load_checkpoint, `nca record`, `nca export`)")
def download_checkpoint(model_id: str, store: Store) -> Response:
    entry = _get(store, model_id)
    path = store.file(model_id, str(entry.info.get("checkpoint") or CHECKPOINT_NAME))
    return file_or_404(path, "application/octet-stream", "this model has no checkpoint",
                       attachment(f"{download_stem(entry)}.pt"))


@router.get("/{model_id}/standalone.html", responses=NOT_FOUND, response_class=Response,
            summary="A single-file page that runs the model with no server (what `nca export --html` writes)")
def download_standalone(model_id: str, store: Store) -> Response:
    entry = _get(store, model_id)
    try:
        page = standalone_page(entry)
    except (OSError, ValueError, KeyError):
        raise HTTPException(404, "this model's bundle cannot be read") from None
    return Response(page, media_type="text/html; charset=utf-8", headers=attachment(f"{download_stem(entry)}.html"))


class OneLineErrors(APIRoute):
    """A body that does not validate is one line too ('steps: Input should be a valid integer'), like the
    record checks' messages, rather than FastAPI's list of errors."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                                   for e in exc.errors())
                raise HTTPException(422, detail or "invalid request body") from None

        return route


async def render_video(model_id: str, options: VideoRequest, request: Request, store: Store,
                       settings: AppSettings, videos: Videos) -> Response:
    entry = _get(store, model_id)
    try:
        job = check(options, settings)
        body = await videos.render(entry.dir, job, request.is_disconnected)
    except VideoError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except ClientGone:
        return Response(status_code=499)  # nobody is listening; the worker has been stopped
    return Response(body, media_type=job.media_type, headers=attachment(job.filename(download_stem(entry))))


router.add_api_route(
    "/{model_id}/video", render_video, methods=["POST"], route_class_override=OneLineErrors,
    response_class=Response, summary="Render a video with the PyTorch model (`nca record`), as a download",
    responses={**NOT_FOUND,
               200: {"content": {"video/mp4": {}, "video/webm": {}}, "description": "the video"},
               422: {"model": ErrorResponse, "description": "options that cannot work, or over this server's limits"},
               429: {"model": ErrorResponse, "description": "a video is already rendering"},
               504: {"model": ErrorResponse, "description": "the render ran past the time limit"}})


@files.get("/bundles/{model_id}/{filename}", responses=NOT_FOUND, summary="A file of a model bundle",
           response_class=FileResponse)
def bundle_file(model_id: str, filename: str, store: Store) -> FileResponse:
    path = store.file(model_id, filename)
    media = {".json": "application/json", ".frag": "text/plain; charset=utf-8", ".png": "image/png",
             ".pt": "application/octet-stream"}
    # Trained bundles can be replaced under the same id: let the browser revalidate.
    return file_or_404(path, media[path.suffix] if path else "", "no such bundle file", {"Cache-Control": "no-cache"})

