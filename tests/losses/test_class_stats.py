"""ClassStats (klviz.losses.class_stats): epochs, masks, state_dict, all-reduce over two processes."""

from __future__ import annotations

import os
import socket

import pytest
import torch

from klviz.losses import (
    ClassStats,
)

D64 = torch.float64
pytestmark = pytest.mark.usefixtures("torch_seed")


def test_class_stats_update_end_epoch_state_dict():
    C = 4
    stats = ClassStats(C, temperature=2.0)
    y = torch.tensor([0, 1, 1, 3])
    torch.testing.assert_close(stats.weights(y), torch.full((4, C), 0.25))  # uniform first epoch
    t = torch.randn(4, C)
    stats.update(t, y)
    stats.update(t[:2], y[:2])
    torch.testing.assert_close(stats.weights(y), torch.full((4, C), 0.25))  # unchanged mid-epoch
    stats.end_epoch()
    p = torch.softmax(t / 2.0, -1)
    expected = torch.full((C, C), 0.25)
    expected[0] = p[0]
    expected[1] = (2 * p[1] + p[2]) / 3
    expected[3] = p[3]  # class 2 unseen: uniform
    torch.testing.assert_close(stats.means, expected)
    torch.testing.assert_close(stats.weights(y), expected[y])
    assert float(stats.counts.sum()) == 0.0 and int(stats.epochs) == 1
    # token-level update with a mask
    stats.update(torch.randn(2, 3, C), torch.tensor([[0, 1, -100], [2, -100, -100]]),
                 mask=torch.tensor([[True, True, False], [True, False, False]]))
    assert float(stats.counts.sum()) == 3.0
    restored = ClassStats(C, temperature=2.0)
    restored.load_state_dict(stats.state_dict())
    for k, v in stats.state_dict().items():
        torch.testing.assert_close(restored.state_dict()[k], v)
    with pytest.raises(ValueError, match="classes"):
        stats.update(torch.randn(2, C + 1), torch.tensor([0, 1]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gloo_worker(rank: int, world: int, port: int, results) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        g = torch.Generator().manual_seed(rank)
        t = torch.randn(6, 3, generator=g)
        y = torch.tensor([0, 0, 1, 1, 2, 2]) if rank == 0 else torch.tensor([0, 1, 1, 1, 1, 1])
        stats = ClassStats(3)
        stats.update(t, y)
        stats.end_epoch()
        results[rank] = stats.means.clone()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_class_stats_all_reduce_gloo_two_processes():
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    results = manager.dict()
    mp.start_processes(_gloo_worker, args=(2, _free_port(), results), nprocs=2, join=True,
                       start_method="spawn")
    # the single-process answer over both ranks' data
    sums, counts = torch.zeros(3, 3, dtype=D64), torch.zeros(3, dtype=D64)
    for rank, y in ((0, [0, 0, 1, 1, 2, 2]), (1, [0, 1, 1, 1, 1, 1])):
        t = torch.randn(6, 3, generator=torch.Generator().manual_seed(rank))
        p = torch.softmax(t, -1).double()
        sums.index_add_(0, torch.tensor(y), p)
        counts.index_add_(0, torch.tensor(y), torch.ones(6, dtype=D64))
    expected = (sums / counts[:, None]).float()
    torch.testing.assert_close(results[0], expected)
    torch.testing.assert_close(results[1], expected)


def test_weights_of_a_label_out_of_range_is_a_clear_error():
    stats = ClassStats(3)
    with pytest.raises(ValueError, match=r"labels outside \[0, 2\]"):
        stats.weights(torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"labels outside"):
        stats.weights(torch.tensor([-1]))
    assert stats.weights(torch.tensor([], dtype=torch.long)).shape == (0, 3)
