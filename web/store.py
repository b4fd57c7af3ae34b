"""Model bundles on disk: the read-only bundled gallery and the models trained here.

A model id is a directory name that matched MODEL_ID_RE *before* it was ever joined to a
path; ids of trained models are the server-generated job ids (32 hex digits).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.bundle import BUNDLE_NAME_RE, MODEL_JSON, SCHEMA, STUDIO_JSON

MODEL_ID_RE = BUNDLE_NAME_RE  # a model id is the name its bundle was exported under
# Which models graft well onto each other (the page's graft brush): an optional file beside the bundles,
# {"pairs": [{"a": "leopard", "b": "rust", "verdict": "good", ...figures}, ...]}, symmetric.
GRAFTS_JSON = "grafts.json"

log = logging.getLogger("nca.studio.models")
# Files a browser may fetch from a bundle: model.json, the shaders, the thumbnail, the checkpoint.
BUNDLE_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(json|frag|png|pt)$")


def valid_model_id(model_id: str) -> bool:
    return bool(MODEL_ID_RE.match(model_id))


@dataclass(frozen=True)
class ModelEntry:
    id: str
    dir: Path
    bundled: bool
    info: dict[str, Any]  # model.json
    studio: dict[str, Any]  # studio.json: title, job_id, preset, created ({} for bundles that have none)

    @property
    def title(self) -> str:
        return str(self.studio.get("title") or self.info.get("name") or self.id)

    @property
    def created(self) -> str | None:
        return self.studio.get("created") or self.info.get("exported_at")


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class ModelStore:
    def __init__(self, models_dir: Path, bundled_dir: Path):
        self.models_dir = models_dir
        self.bundled_dir = bundled_dir
        self._grafts_cache: dict[str, tuple[tuple, list[tuple[str, str]]]] = {}  # path -> (stat, pairs)

    def _entry(self, root: Path, model_id: str, bundled: bool) -> ModelEntry | None:
        if not valid_model_id(model_id):
            return None
        bundle = root / model_id
        info = read_json(bundle / MODEL_JSON)
        if info is None or info.get("schema") != SCHEMA or not isinstance(info.get("shaders"), dict):
            return None
        return ModelEntry(model_id, bundle, bundled, info, read_json(bundle / STUDIO_JSON) or {})

    def get(self, model_id: str) -> ModelEntry | None:
        """The trained model with this id, else the bundled one, else None."""
        if not valid_model_id(model_id):
            return None
        return self._entry(self.models_dir, model_id, False) or self._entry(self.bundled_dir, model_id, True)

    def list(self) -> list[ModelEntry]:
        """Bundled models by name, then the trained ones, oldest first (new ones land at the end)."""
        bundled = [e for e in (self._entry(self.bundled_dir, d.name, True) for d in _subdirs(self.bundled_dir)) if e]
        trained = [e for e in (self._entry(self.models_dir, d.name, False) for d in _subdirs(self.models_dir)) if e]
        bundled.sort(key=lambda e: e.title.lower())
        trained.sort(key=lambda e: (e.created or "", e.id))
        shadowed = {e.id for e in trained}
        return [e for e in bundled if e.id not in shadowed] + trained

    def graft_pairs(self) -> dict[str, set[str]]:
        """Model id -> the ids marked good to graft with it, from grafts.json in the bundled and the trained
        models' directories. A missing file counts as none; a malformed one is ignored, with a warning."""
        partners: dict[str, set[str]] = {}
        for root in (self.bundled_dir, self.models_dir):
            for a, b in self._good_pairs(root / GRAFTS_JSON):
                partners.setdefault(a, set()).add(b)
                partners.setdefault(b, set()).add(a)
        return partners

    def grafts_with(self, entry: ModelEntry, entries: list[ModelEntry], pairs: dict[str, set[str]]) -> list[str]:
        """The ids, in gallery order, of the models in `entries` that graft well with `entry`: marked good in
        grafts.json and of the same channel count (the engine grafts only those)."""
        good = pairs.get(entry.id, set())
        channels = entry.info.get("channels")
        return [e.id for e in entries if e.id in good and e.id != entry.id and e.info.get("channels") == channels]

    def _good_pairs(self, path: Path) -> list[tuple[str, str]]:
        try:
            stat = path.stat()
        except OSError:
            return []
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        cached = self._grafts_cache.get(str(path))
        if cached and cached[0] == key:
            return cached[1]
        try:
            pairs = _parse_grafts(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            log.warning("ignoring %s: %s", path, exc)
            pairs = []
        self._grafts_cache[str(path)] = (key, pairs)
        return pairs

    def file(self, model_id: str, name: str) -> Path | None:
        """A servable file of a bundle, or None; neither argument is trusted."""
        entry = self.get(model_id)
        if entry is None or not BUNDLE_FILE_RE.match(name):
            return None
        path = entry.dir / name
        return path if path.is_file() else None

    def delete(self, entry: ModelEntry) -> None:
        if entry.bundled:
            raise PermissionError("bundled models cannot be deleted")
        # Rename first so a concurrent listing never sees a half-deleted bundle.
        trash = entry.dir.with_name(f".{entry.id}.deleted")
        entry.dir.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)


def _parse_grafts(data: Any) -> list[tuple[str, str]]:
    """grafts.json's pairs whose verdict is good; ValueError when the file is not of that shape."""
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise ValueError('expected {"pairs": [{"a": id, "b": id, "verdict": ...}, ...]}')
    good = []
    for i, pair in enumerate(data["pairs"]):
        if not isinstance(pair, dict) or not all(isinstance(pair.get(k), str) for k in ("a", "b")):
            raise ValueError(f"pair {i} is not an object with string ids a and b")
        a, b = pair["a"], pair["b"]
        if pair.get("verdict") == "good" and a != b and valid_model_id(a) and valid_model_id(b):
            good.append((a, b))
    return good


def _subdirs(root: Path) -> list[Path]:
    try:
        return [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    except OSError:
        return []
