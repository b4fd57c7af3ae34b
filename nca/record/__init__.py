"""Videos of a texture growing from the seed and repairing damage: `nca record`.

    from nca.record import record
    result = record("runs/leopard", "leopard.mp4", size=256, steps=1200,
                    damage=["circle@600:x=0.5,y=0.5,r=0.25"])

options.py checks what is asked for, damage.py parses and applies damage specs, render.py
steps the models and composes frames, writers.py encodes them, repair.py measures healing,
cli.py is the command.
"""

from importlib import import_module
from typing import Any

from .cli import main
from .errors import RecordError

# The rest loads torch: imported on first use, so `nca --help` (which builds this command) stays fast.
_LAZY = {"GRID_GAP": "render", "RecordResult": "render", "record": "render",
         "DamageError": "damage", "parse_damage": "damage"}

__all__ = ["GRID_GAP", "DamageError", "RecordError", "RecordResult", "main", "parse_damage", "record"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nca.record' has no attribute {name!r}")
    return getattr(import_module(f".{_LAZY[name]}", __name__), name)
