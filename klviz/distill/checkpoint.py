"""Atomic checkpoints and the random-number state they carry.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(weights_only=True)`` (no arbitrary pickle code runs when a reader opens a file).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from klviz.distill.files import atomic_write

__all__ = ["CheckpointError", "get_rng_state", "load_checkpoint", "save_checkpoint", "set_rng_state"]

FORMAT = "klviz.distill/1"


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or of the wrong kind; the message says what to do."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` with :func:`~klviz.distill.files.atomic_write`.

    A crash at any moment leaves either the old checkpoint or the new one, never half of one.
    """
    with atomic_write(path, "wb") as fh:
        torch.save({"format": FORMAT, **state}, fh)


def load_checkpoint(path: str | os.PathLike, *, what: str = "checkpoint", hint: str = "") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, onto the CPU.

    Raises :class:`CheckpointError` with a one-line message when the file is missing, unreadable
    or not a klviz checkpoint; ``hint`` is appended (what the user should do instead).
    """
    path = Path(path)
    tail = f"; {hint}" if hint else ""
    if not path.is_file():
        raise CheckpointError(f"{what} {path} does not exist{tail}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a truncated or foreign file
        raise CheckpointError(f"{what} {path} is corrupt or not a checkpoint ({type(exc).__name__}){tail}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{what} {path} is not a klviz.distill checkpoint{tail}")
    return state


def get_rng_state(loader_generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every random state a run depends on: Python, numpy, torch (CPU and CUDA), the DataLoader's."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "python": [version, list(internal), py_gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    if loader_generator is not None:
        state["loader"] = loader_generator.get_state()
    return state


def set_rng_state(state: dict[str, Any], loader_generator: torch.Generator | None = None) -> None:
    """Restore what :func:`get_rng_state` returned."""
    version, internal, py_gauss = state["python"]
    random.setstate((version, tuple(internal), py_gauss))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    if loader_generator is not None and "loader" in state:
        loader_generator.set_state(state["loader"])
