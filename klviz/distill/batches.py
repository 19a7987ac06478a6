"""Batches from tensors already on the device: index sampling, preprocessing, augmentation.

The data sets are small enough to live on the device whole, so a batch is a tensor of example
indices; the order of epoch ``e`` depends only on ``(seed, e)`` (a
:class:`~torch.utils.data.DistributedSampler`, also in one process: rank ``r`` of ``N`` takes
positions ``r, r + N, ...`` of the same permutation, so ``N`` processes see the batches of one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler

from klviz.distill.data import Dataset

__all__ = ["Preprocess", "augment", "index_loader"]


class _Indices(torch.utils.data.Dataset):
    """Yields example indices (the trainer gathers the examples from device tensors)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return torch.as_tensor(indices, dtype=torch.long)


def _identity(batch: torch.Tensor) -> torch.Tensor:
    return batch


def index_loader(n: int, batch_size: int, *, seed: int, rank: int = 0, world: int = 1
                 ) -> tuple[DataLoader, DistributedSampler, torch.Generator]:
    """Batches of indices into ``n`` examples: ``batch_size`` per process, reshuffled per epoch.

    Returns the loader, its sampler (call ``sampler.set_epoch(e)`` before each epoch) and the
    loader's generator (its state belongs in a checkpoint).
    """
    sampler = DistributedSampler(_Indices(n), num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(_Indices(n), batch_size=batch_size, sampler=sampler, collate_fn=_identity, generator=gen)
    return loader, sampler, gen


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 32x32 crop of the zero-padded (4 px) image and a random horizontal flip, per example.

    The CIFAR augmentation of CRD/mdistiller {cite}`tian2020contrastive`, done on the device
    with one gather instead of a Python loop over images.
    """
    b, c, h, w = x.shape
    pad = 4
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return xp[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]


class Preprocess:
    """Turns stored examples (float, or uint8 images) into model inputs on the device."""

    def __init__(self, data: Dataset, device: torch.device) -> None:
        self.images = data.mean is not None
        if self.images:
            self.mean = torch.tensor(data.mean, device=device).view(1, -1, 1, 1)
            self.std = torch.tensor(data.std, device=device).view(1, -1, 1, 1)

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """``x`` scaled (``/ 255``), augmented when ``gen`` is given, and standardised; float data as is."""
        if not self.images:
            return x
        x = x.float() / 255.0
        if gen is not None:
            x = augment(x, gen)
        return (x - self.mean) / self.std
