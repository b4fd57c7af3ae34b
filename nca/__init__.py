"""NCA Studio's core: texture neural cellular automata in PyTorch.

    import nca
    result = nca.train("leopard.png", "runs/leopard", preset="quick")
    report = nca.evaluate(result.checkpoint)
    nca.record("runs/leopard", "leopard.mp4", damage=["circle@600:r=0.25"])
"""

from .checkpoint import Checkpoint, load_checkpoint
from .config import ModelConfig, TrainConfig, preset
from .evaluate import evaluate
from .model import NCA, pick_device, to_rgb
from .record import RecordResult, record
from .train import RunResult, train

__version__ = "0.1.0"

__all__ = [
    "NCA", "Checkpoint", "ModelConfig", "RunResult", "TrainConfig", "evaluate", "load_checkpoint",
    "RecordResult", "pick_device", "preset", "record", "to_rgb", "train",
]
