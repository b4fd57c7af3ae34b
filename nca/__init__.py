"""NCA Studio's core: texture neural cellular automata in PyTorch.

    import nca
    result = nca.train("leopard.png", "runs/leopard", preset="fast")
    report = nca.evaluate(result.checkpoint)
    nca.record("runs/leopard", "leopard.mp4", damage=["circle@600:r=0.25"])
    rows = nca.sweep(["leopard.png"], "sweeps/leopard", seeds=[0, 1, 2])   # needs Ray
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# Public names and the module each lives in. Imported on first use, so that `nca` on the command
# line starts (and answers Ctrl-C or --help) before torch has loaded.
_EXPORTS = {
    "Checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
    "ModelConfig": "config", "TrainConfig": "config", "preset": "config",
    "evaluate": "evaluate", "verdict": "verdict",
    "NCA": "model", "pick_device": "model", "to_rgb": "model",
    "RecordResult": "record", "record": "record",
    "RunResult": "train", "train": "train",
    "sweep": "sweep",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nca' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule binds it on the package: `nca.train` the module would then hide
        # `nca.train` the function of the same name. The functions win; the modules stay importable.
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
