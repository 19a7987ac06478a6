"""klviz.distill.batches: CIFAR augmentation against a per-image loop; index batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from klviz.distill.batches import augment, index_loader


def test_augment_matches_a_per_image_crop_and_flip():
    x = torch.randn(6, 3, 32, 32)
    out = augment(x, torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    dy = torch.randint(0, 9, (6,), generator=g)
    dx = torch.randint(0, 9, (6,), generator=g)
    flip = torch.rand(6, generator=g) < 0.5
    for i in range(6):
        ref = F.pad(x[i], (4, 4, 4, 4))[:, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32]
        if flip[i]:
            ref = ref.flip(-1)
        assert torch.equal(out[i], ref)


def test_index_batches_of_two_ranks_interleave_into_the_batches_of_one():
    one, s1, _ = index_loader(12, 4, seed=3)
    r0, s0a, _ = index_loader(12, 2, seed=3, rank=0, world=2)
    r1, s0b, _ = index_loader(12, 2, seed=3, rank=1, world=2)
    for epoch in (0, 1):
        for s in (s1, s0a, s0b):
            s.set_epoch(epoch)
        single = [b.tolist() for b in one]
        pairs = [sorted(a.tolist() + b.tolist()) for a, b in zip(r0, r1)]
        assert [sorted(b) for b in single] == pairs
        assert sorted(sum(single, [])) == list(range(12))
    s1.set_epoch(0)
    first = [b.tolist() for b in one]
    s1.set_epoch(1)
    assert [b.tolist() for b in one] != first  # reshuffled per epoch
