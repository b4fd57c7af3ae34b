"""/api/models: the gallery (bundled + trained here); /bundles/{id}/{file}: bundle files for the engine."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import FileResponse

from nca.verdict import VERDICTS

from ..deps import Store
from ..files import file_or_404
from ..schemas import ErrorResponse, ModelDetail, ModelSummary
from ..store import ModelEntry, ModelStore

router = APIRouter(prefix="/api/models", tags=["models"])
files = APIRouter(tags=["models"])

NOT_FOUND = {404: {"model": ErrorResponse, "description": "no model with this id"}}


def _get(store: ModelStore, model_id: str) -> ModelEntry:
    entry = store.get(model_id)
    if entry is None:
        raise HTTPException(404, f"no model {model_id!r}" if len(model_id) <= 64 else "no such model")
    return entry


def summary(entry: ModelEntry) -> dict:
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
        "job_id": entry.studio.get("job_id"),
        "training": info.get("training") or {},
        "verdict": verdict if (verdict := (info.get("quality") or {}).get("verdict")) in VERDICTS else None,
        "quality": info.get("quality") or {},
    }


@router.get("", response_model=list[ModelSummary], summary="List the gallery: bundled models, then trained ones")
def list_models(store: Store) -> list[dict]:
    return [summary(e) for e in store.list()]


@router.get("/{model_id}", response_model=ModelDetail, responses=NOT_FOUND, summary="One model's metadata")
def get_model(model_id: str, store: Store) -> dict:
    entry = _get(store, model_id)
    return {**summary(entry), "bundle": entry.info}


@router.delete("/{model_id}", status_code=204, summary="Delete a trained model (bundled ones are read-only)",
               responses={**NOT_FOUND, 403: {"model": ErrorResponse, "description": "a bundled model"}})
def delete_model(model_id: str, store: Store) -> Response:
    entry = _get(store, model_id)
    if entry.bundled:
        raise HTTPException(403, "bundled models are read-only and cannot be deleted")
    store.delete(entry)
    return Response(status_code=204)


@files.get("/bundles/{model_id}/{filename}", responses=NOT_FOUND, summary="A file of a model bundle",
           response_class=FileResponse)
def bundle_file(model_id: str, filename: str, store: Store) -> FileResponse:
    path = store.file(model_id, filename)
    media = {".json": "application/json", ".frag": "text/plain; charset=utf-8", ".png": "image/png",
             ".pt": "application/octet-stream"}
    # Trained bundles can be replaced under the same id: let the browser revalidate.
    return file_or_404(path, media[path.suffix] if path else "", "no such bundle file", {"Cache-Control": "no-cache"})

