"""klviz.distill.checkpoint: atomic saves, one-line load errors, the random state round trip."""

from __future__ import annotations

import pytest
import torch

from klviz.distill import checkpoint as C


def test_atomic_save_survives_a_crash_while_writing(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    C.save_checkpoint({"x": torch.arange(3)}, path)

    def crash(obj, fh, *a, **k):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        C.save_checkpoint({"x": torch.arange(5)}, path)
    monkeypatch.undo()
    assert torch.equal(C.load_checkpoint(path)["x"], torch.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left behind


def test_load_errors(tmp_path):
    with pytest.raises(C.CheckpointError, match="does not exist; retrain"):
        C.load_checkpoint(tmp_path / "none.pt", hint="retrain")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(C.CheckpointError, match="corrupt"):
        C.load_checkpoint(bad)
    torch.save({"a": 1}, tmp_path / "other.pt")
    with pytest.raises(C.CheckpointError, match="not a klviz.distill checkpoint"):
        C.load_checkpoint(tmp_path / "other.pt")


def test_rng_state_round_trip():
    import random

    import numpy as np

    g = torch.Generator().manual_seed(5)
    state = C.get_rng_state(g)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    C.set_rng_state(state, g)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
