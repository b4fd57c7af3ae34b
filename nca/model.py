"""The texture NCA: fixed perception filters, a two-layer per-cell MLP, a stochastic residual update.

Layout contract (the exporter and the shaders rely on it):
  * state `x` is B x C x H x W float32; channels 0..2 are RGB shown as clamp(x + 0.5, 0, 1);
  * the perception vector of a cell is filter-major: [identity(C), sobel_x(C), sobel_y(C), laplacian(C)],
    i.e. feature index f * C + c, with sobel_x/sobel_y rotated by `angle` (radians);
  * `w1` is hidden x 4C, `b1` is hidden, `w2` is C x hidden (no bias, zero at init).
The neighbourhood wraps around (circular padding), so every texture tiles without seams.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig

IDENTITY = [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
SOBEL_X = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]  # / 8
LAPLACIAN = [[1.0, 2.0, 1.0], [2.0, -12.0, 2.0], [1.0, 2.0, 1.0]]  # / 16


def perception_kernels(angle: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    """The four 3x3 filters (4 x 3 x 3), Sobel pair rotated by `angle` radians.

    `scale` k is a perception scale: the Sobel pair times k, the Laplacian times k^2, as if the
    grid were k times finer, so features span k times as many cells (measured: bench/field_scale.py).
    Kernels are indexed [dy, dx] with dy pointing down the image (row index), matching
    texelFetch on a texture whose row 0 is the top of the state.
    """
    ident = torch.tensor(IDENTITY)
    sx = torch.tensor(SOBEL_X) / 8.0
    sy = sx.T.clone()
    lap = torch.tensor(LAPLACIAN) / 16.0
    c, s, k2 = perception_coefficients(angle, scale)
    return torch.stack([ident, c * sx - s * sy, s * sx + c * sy, k2 * lap])


def perception_coefficients(angle: float = 0.0, scale: float = 1.0) -> tuple[float, float, float]:
    """k cos, k sin and k^2 of a rotation by `angle` at perception scale k: how perception_kernels
    mixes the Sobel pair and weighs the Laplacian."""
    return scale * math.cos(angle), scale * math.sin(angle), scale * scale


def circular_pad(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (1, 1, 1, 1), mode="circular")


class NCA(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        c, h = cfg.channels, cfg.hidden
        self.w1 = nn.Parameter(torch.empty(h, 4 * c))
        self.b1 = nn.Parameter(torch.zeros(h))
        self.w2 = nn.Parameter(torch.zeros(c, h))  # zero-init: the untrained model is the identity
        nn.init.kaiming_uniform_(self.w1, a=math.sqrt(5))  # nn.Linear's default init
        bound = 1.0 / math.sqrt(4 * c)
        nn.init.uniform_(self.b1, -bound, bound)
        self._kernel_cache: dict[tuple[float, float, torch.device, torch.dtype], torch.Tensor] = {}

    @property
    def channels(self) -> int:
        return self.cfg.channels

    def seed(self, batch: int, height: int, width: int, noise: float = 0.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
        device = self.w1.device
        x = torch.zeros(batch, self.channels, height, width, device=device)
        if noise > 0:
            x += noise * torch.randn(x.shape, generator=generator, device=device)
        return x

    def _fused_kernel(self, angle: float, scale: float = 1.0) -> torch.Tensor:
        """w1 folded into the perception filters: a dense 3x3 conv C -> hidden.

        Perception is linear, so perceive-then-1x1 equals one 3x3 convolution with
        weights W[h, c, ky, kx] = sum_f w1[h, f*C + c] * K_f[ky, kx]. On CPU one dense
        conv is much faster than a depthwise conv, a concat and a 1x1 conv (see bench/).
        """
        key = (float(angle), float(scale), self.w1.device, self.w1.dtype)
        kernels = self._kernel_cache.get(key)
        if kernels is None:
            kernels = perception_kernels(angle, scale).to(self.w1)
            if len(self._kernel_cache) >= 8:  # a few scales in training; a slider's angles must not pile up
                self._kernel_cache.clear()
            self._kernel_cache[key] = kernels
        c = self.channels
        w1 = self.w1.view(-1, 4, c)  # hidden x filter x channel
        return torch.einsum("hfc,fyx->hcyx", w1, kernels)

    def perceive(self, x: torch.Tensor, angle: float = 0.0) -> torch.Tensor:
        """Explicit perception (B x 4C x H x W), filter-major. Used by tests and the exporter's parity check."""
        c = self.channels
        k = perception_kernels(angle).to(x)  # 4 x 3 x 3
        weight = k.repeat(c, 1, 1).view(c * 4, 1, 3, 3)  # channel-major within the conv
        y = F.conv2d(circular_pad(x), weight, groups=c)  # B x (C*4) x H x W, index c*4 + f
        b, _, h, w = y.shape
        return y.view(b, c, 4, h, w).transpose(1, 2).reshape(b, 4 * c, h, w)

    def update(self, x: torch.Tensor, angle: float = 0.0) -> torch.Tensor:
        """The residual dx for every cell (before the stochastic mask)."""
        hidden = F.conv2d(circular_pad(x), self._fused_kernel(angle), self.b1)
        hidden = F.relu(hidden)
        return F.conv2d(hidden, self.w2[:, :, None, None])

    def update_rotated(self, x: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
        """The residual dx with a rotation per cell: `rot` (B or 1) x 2 x H x W holds (k cos, k sin) of
        each cell's angle, applied to the Sobel pair as the shader does, and the Laplacian is times k^2
        (k: the cell's perception scale; nca/fields.py builds it)."""
        c = self.channels
        s, gx, gy, lap = self.perceive(x).split(c, dim=1)
        cos, sin = rot[:, :1], rot[:, 1:2]
        p = torch.cat([s, cos * gx - sin * gy, sin * gx + cos * gy, (cos * cos + sin * sin) * lap], dim=1)
        hidden = F.relu(F.conv2d(p, self.w1[:, :, None, None], self.b1))
        return F.conv2d(hidden, self.w2[:, :, None, None])

    def forward(self, x: torch.Tensor, angle: float = 0.0, fire_rate: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """One step. Each cell fires (applies its update to all channels) with probability fire_rate."""
        rate = self.cfg.fire_rate if fire_rate is None else fire_rate
        dx = self.update(x, angle)
        if rate < 1.0:
            dx = dx * fire_mask(x, rate, generator)
        return x + dx

    @torch.no_grad()
    def rollout(self, x: torch.Tensor, steps: int, angle: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        for _ in range(steps):
            x = self(x, angle=angle, generator=generator)
        return x


def fire_cells(batch: int, height: int, width: int, rate: float, generator: torch.Generator | None,
               device: torch.device) -> torch.Tensor:
    """B x 1 x H x W booleans: which cells apply their update this step (probability `rate`).
    Training, the probe, the check and NCA.forward all draw it this way, so one seeded generator gives
    the same masks."""
    return torch.rand((batch, 1, height, width), generator=generator, device=device) < rate


def fire_mask(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """fire_cells for the states `x` as 0/1 in x's dtype."""
    b, _, h, w = x.shape
    return fire_cells(b, h, w, rate, generator, x.device).to(x.dtype)


def fused_step(x: torch.Tensor, mask: torch.Tensor, kernel: torch.Tensor, b1: torch.Tensor,
               w2: torch.Tensor) -> torch.Tensor:
    """One masked NCA step with the perception already folded into `kernel` (NCA._fused_kernel).

    A free function of tensors, so torch.compile can fuse it without tracing module state;
    training and the long-rollout probe run it with the kernel computed once per rollout.
    """
    hidden = F.relu(F.conv2d(circular_pad(x), kernel, b1))
    return x + F.conv2d(hidden, w2[:, :, None, None]) * mask


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """State -> displayable RGB in [0, 1] (B x 3 x H x W)."""
    return (x[:, :3] + 0.5).clamp(0.0, 1.0)


def pick_device(name: str = "auto") -> torch.device:
    """`auto` prefers CUDA, then Apple MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name not in ("cpu", "cuda", "mps") and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or mps")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for but no CUDA GPU is available")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device mps was asked for but Apple MPS is not available")
    return torch.device(name)
