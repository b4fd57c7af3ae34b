"""NCA Studio's core: texture neural cellular automata in PyTorch.

    import nca
    result = nca.train("leopard.png", "runs/leopard", preset="quick")
    report = nca.evaluate(result.checkpoint)
"""

from .checkpoint import Checkpoint, load_checkpoint
from .config import ModelConfig, TrainConfig, preset
from .evaluate import evaluate
from .model import NCA, pick_device, to_rgb
from .train import RunResult, train

__version__ = "0.1.0"

__all__ = [
    "NCA", "Checkpoint", "ModelConfig", "RunResult", "TrainConfig", "evaluate", "load_checkpoint",
    "pick_device", "preset", "to_rgb", "train",
]
