"""Write a model bundle directory atomically.

Layout of <out>/<name>/:
  model.json      schema-versioned metadata; lists the shader files, see `model_json`
  update.frag     one fused NCA step (generated, weights as literals)
  display.frag    state -> canvas colours
  brush.frag      erase / noise a disc
  seed.frag       reset to the seed or to noise
  thumbnail.png   texture grown by the PyTorch model (+ the style image)
  checkpoint.pt   byte copy of the source checkpoint: nca.checkpoint.load_checkpoint(bundle_dir) works
  studio.json     only for models trained in the studio: its display title, job id, preset, creation time

Everything is written into a hidden temporary sibling directory which is renamed into place
at the end, so an interrupted or failed export never leaves a half-written bundle behind.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from PIL import Image

from nca.checkpoint import CHECKPOINT_NAME, Checkpoint
from nca.files import replacing

from .pack import FILTERS, PackedModel
from .render import GRAFT_MARKER, NETWORK_FN, PROGRAMS

# A bundle name is a directory name, a URL segment and the studio's model id: the one rule for all three.
BUNDLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Where the studio keeps its data (`nca serve --data`, `make studio DATA=`); bundles go in its models/.
DEFAULT_DATA_DIR = Path("data")
STUDIO_MODELS = DEFAULT_DATA_DIR / "models"

SCHEMA = "nca-studio/model-bundle"
SCHEMA_VERSION = 3  # 2: the update pass reads a field texture; graft.frag and network.frag; 3: its scale
MODEL_JSON = "model.json"
THUMBNAIL = "thumbnail.png"
STUDIO_JSON = "studio.json"
# init_from: the model a fine-tune started from; tries: both starts when a second one ran (nca/retry.py).
TRAINING_KEYS = ("style_sha256", "style_name", "style_size", "iterations", "final_loss", "wall_time", "device",
                 "precision", "selected_iteration", "init_from", "tries")


def model_json(ckpt: Checkpoint, packed: PackedModel, name: str) -> dict[str, Any]:
    meta = ckpt.meta
    tc = ckpt.train_config
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "channels": packed.channels,
        "hidden": packed.hidden,
        "targets": packed.targets,  # RGBA state textures = MRT outputs of the update pass
        "fire_rate": packed.fire_rate,
        "filters": list(FILTERS),  # perception order, filter-major: feature f*C + c
        "parameter_count": packed.parameter_count,
        "state_format": {
            "preferred": "RGBA32F",
            "fallback": "RGBA16F",
            "layout": "channel 4k+j is component j of target k; texture row 0 is state row 0 (top)",
        },
        "shaders": {program: file for program, (file, _) in PROGRAMS.items()},
        # How the engine grafts another model onto this one: the line of graft.frag it replaces with
        # the other bundle's network.frag, and the function name it renames there.
        "graft": {"marker": GRAFT_MARKER, "function": NETWORK_FN},
        "thumbnail": THUMBNAIL,
        "checkpoint": CHECKPOINT_NAME,
        "training": {
            **{k: meta[k] for k in TRAINING_KEYS if k in meta},
            "loss": tc.loss,
            "grid": tc.grid,
            "seed_noise": tc.seed_noise,
        },
        # The closing check of the run (nca.evaluate.check): verdict, reasons, figures per step count.
        "quality": meta.get("evaluation") or {},
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def write_bundle(bundle_dir: Path, ckpt: Checkpoint, info: dict[str, Any], sources: dict[str, str],
                 thumb: Image.Image, studio: dict[str, Any] | None = None) -> Path:
    """Create `bundle_dir` (replacing an older bundle of the same name) all at once; with `studio`,
    its studio.json too."""
    with replacing(bundle_dir, directory=True) as tmp:
        for program, (file, _) in PROGRAMS.items():
            (tmp / file).write_text(sources[program], encoding="utf-8")
        thumb.save(tmp / THUMBNAIL)
        shutil.copyfile(ckpt.path, tmp / CHECKPOINT_NAME)
        if studio is not None:
            (tmp / STUDIO_JSON).write_text(json.dumps(studio, indent=2) + "\n", encoding="utf-8")
        # model.json last: a reader that finds it can trust the rest is there.
        (tmp / MODEL_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return bundle_dir
