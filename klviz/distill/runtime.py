"""Where and how a run computes: device, seeds, mixed precision, the ``torchrun`` process group.

Nothing here knows about teachers, students or losses, so every trainer (the distiller of chapter
``ch-lab`` and the ones to come) gets the same device choice, seeding and distributed set-up.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from klviz._checks import ConfigError

__all__ = ["Distributed", "Runtime", "amp_dtype", "configure_backends", "resolve_device", "seed_everything"]

#: the mixed-precision modes a config may ask for (see :func:`amp_dtype`)
AMP_MODES = ("auto", "bf16", "fp16", "off")


def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``: CUDA (this rank's GPU) if available, else Apple MPS, else the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device={device!r} is not a torch device; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} but CUDA is not available here; use --device cpu or auto")
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def configure_backends(device: torch.device, deterministic: bool) -> None:
    """Deterministic cuDNN kernels (the default), or the fastest ones (``deterministic=False``)."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not deterministic
        torch.backends.cudnn.deterministic = deterministic


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``mode`` (one of :data:`AMP_MODES`) on ``device``; ``None``: full precision.

    Mixed precision is used on CUDA only; ``"auto"`` picks bfloat16 where the GPU supports it
    (no grad scaler needed), else float16 (the trainer then scales the loss).
    """
    if device.type != "cuda" or mode == "off":
        return None
    if mode == "fp16":
        return torch.float16
    if mode == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


class Distributed:
    """This process's place in a ``torchrun`` job (world size 1 without one)."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.owns_group = False

    @property
    def active(self) -> bool:
        return self.world > 1

    def init(self, device: torch.device) -> None:
        """Join the process group (NCCL on GPUs, gloo on CPUs) unless a caller already did."""
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            self.owns_group = True

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the ranks in place (a no-op in one process)."""
        if self.active:
            dist.all_reduce(t)
        return t

    def spread(self, t: torch.Tensor) -> float:
        """Largest difference between any rank's copy of ``t`` and rank 0's (0 in one process)."""
        if not self.active:
            return 0.0
        flat = t.detach().double().flatten()
        gathered = [torch.empty_like(flat) for _ in range(self.world)]
        dist.all_gather(gathered, flat)
        return max(float((g - gathered[0]).abs().max()) if g.numel() else 0.0 for g in gathered)

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


@dataclass
class Runtime:
    """What a task needs to know about where it runs: the device, the autocast dtype, the ranks."""

    device: torch.device
    amp: torch.dtype | None
    dist: Distributed

    def autocast(self):
        """The autocast context of this run (a no-op without mixed precision)."""
        return torch.autocast("cuda", dtype=self.amp, enabled=self.amp is not None)
