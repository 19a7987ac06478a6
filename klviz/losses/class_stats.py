r"""Per-class mean teacher distributions: the class-wise weights of IKL/GKL (chapter ``ch-gkl``).

A distributed ``nn.Module``: its sums are all-reduced over the process group at the end of
each epoch, and its buffers travel in ``state_dict`` (checkpoints, resume).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from klviz import _checks
from klviz.losses import checks

__all__ = ["ClassStats"]


class ClassStats(nn.Module):
    r"""Per-class mean of the teacher's softmax, indexed by ground-truth label (IKL/GKL).

    During an epoch :meth:`update` accumulates, for each class ``c``, the sum of
    ``softmax(teacher/temperature)`` over the samples labelled ``c`` and their count.
    :meth:`end_epoch` all-reduces these sums over the process group (when
    ``torch.distributed`` is initialised), publishes ``means[c] = sum_c / count_c`` and
    resets the accumulators. :meth:`weights` returns the published rows, which stay fixed
    during the next epoch; before the first :meth:`end_epoch` every row is uniform
    (``1/C``), as in the published code. A class with no sample in an epoch gets a uniform
    row. Everything lives in buffers, so ``state_dict``/``load_state_dict`` restore it
    (``temperature`` is a constructor argument, not state).
    """

    sums: Tensor
    counts: Tensor
    means: Tensor
    epochs: Tensor

    def __init__(self, num_classes: int, *, temperature: float = 1.0) -> None:
        super().__init__()
        self.num_classes = _checks.positive_int(num_classes, "num_classes")
        self.temperature = _checks.temperature(temperature)
        # float64 accumulators: an epoch of ImageNet adds ~1e6 rows per class sum
        self.register_buffer("sums", torch.zeros(num_classes, num_classes, dtype=torch.float64))
        self.register_buffer("counts", torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer("means", torch.full((num_classes, num_classes), 1.0 / num_classes))
        self.register_buffer("epochs", torch.zeros((), dtype=torch.long))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, temperature={self.temperature}"

    @torch.no_grad()
    def update(self, teacher_logits: Tensor, target: Tensor, *, mask: Tensor | None = None) -> None:
        """Add ``softmax(teacher_logits / temperature)`` of each (unmasked) row to its label's sum."""
        if not isinstance(teacher_logits, Tensor) or not teacher_logits.is_floating_point():
            raise TypeError("teacher_logits must be a floating-point torch.Tensor")
        if teacher_logits.shape[-1] != self.num_classes:
            raise ValueError(f"teacher_logits has {teacher_logits.shape[-1]} classes, ClassStats was "
                             f"built for {self.num_classes}")
        lead = teacher_logits.shape[:-1]
        m = checks.mask(mask, lead, teacher_logits.device)
        y = checks.target(target, lead, self.num_classes, teacher_logits.device, m, who="ClassStats.update")
        p = F.softmax(teacher_logits.reshape(-1, self.num_classes).float() / self.temperature, dim=-1)
        y = y.reshape(-1)
        if m is not None:
            keep = m.reshape(-1)
            p, y = p[keep], y[keep]
        dev = self.sums.device
        self.sums.index_add_(0, y.to(dev), p.to(dev, torch.float64))
        self.counts.index_add_(0, y.to(dev), torch.ones(y.shape[0], dtype=torch.float64, device=dev))

    @torch.no_grad()
    def end_epoch(self) -> None:
        """All-reduce the epoch's sums and counts, publish the means, reset the accumulators."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(self.sums, op=dist.ReduceOp.SUM)
            dist.all_reduce(self.counts, op=dist.ReduceOp.SUM)
        seen = self.counts > 0
        means = self.sums / self.counts.clamp_min(1.0).unsqueeze(-1)
        uniform = torch.full_like(means, 1.0 / self.num_classes)
        self.means.copy_(torch.where(seen.unsqueeze(-1), means, uniform))
        self.sums.zero_()
        self.counts.zero_()
        self.epochs += 1

    def weights(self, target: Tensor) -> Tensor:
        """The published rows for each label: shape ``target.shape + (C,)``."""
        if not isinstance(target, Tensor) or target.dtype.is_floating_point or target.dtype == torch.bool:
            raise ValueError("target must be an integer tensor of class indices")
        if target.numel() and not (0 <= int(target.min()) and int(target.max()) < self.num_classes):
            raise ValueError(f"target holds labels outside [0, {self.num_classes - 1}]; pass class indices "
                             f"of the {self.num_classes} classes ClassStats was built for")
        return self.means[target.to(self.means.device)]

