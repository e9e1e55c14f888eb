"""All-gather of feature rows across the ranks of a process group, with or without gradient.

Used by the contrastive loss (``gather_distributed``) and by the momentum queues (every rank enqueues the features
of all ranks). Without an initialised process group of more than one process every helper returns its input.
Written here because ``torch.distributed.all_gather`` needs equal shapes on every rank and passes no gradient:
ranks may hold different numbers of rows (the last batch), and the contrastive loss needs the gradient back.
"""
from typing import List

import torch
import torch.distributed as dist

from ...utils.dist import is_distributed

__all__ = ['all_gather_with_grad', 'all_gather_no_grad']


def _gather_sizes(x: torch.Tensor) -> List[int]:
    size = torch.tensor([x.shape[0]], dtype=torch.long, device=x.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    return [int(s.item()) for s in sizes]


def _all_gather_rows(x: torch.Tensor, sizes: List[int]) -> torch.Tensor:
    """Concatenate the ``x`` of every rank along dim 0 (ranks may hold different numbers of rows)."""
    longest = max(sizes)
    padded = x.new_zeros((longest, ) + tuple(x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([part[:size] for part, size in zip(parts, sizes)])


class _AllGatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0; the backward pass sums the gradients of every rank and keeps the local rows.

    With each rank minimising the loss of its own rows against the gathered columns, the local features then
    receive the gradient of the sum of all ranks' losses, so the data-parallel average of the parameter
    gradients equals the gradient of the loss over the whole global batch.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, sizes: List[int]) -> torch.Tensor:  # type: ignore[override]
        ctx.sizes = sizes
        ctx.rank = dist.get_rank()
        return _all_gather_rows(x.detach(), sizes)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        start = sum(ctx.sizes[:ctx.rank])
        return grad[start:start + ctx.sizes[ctx.rank]], None


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """[n_rank, ...] on every rank -> [sum of n_rank, ...], rank order; gradients flow back to every rank's rows."""
    if not is_distributed():
        return x
    return _AllGatherWithGrad.apply(x, _gather_sizes(x))


def all_gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """[n_rank, ...] on every rank -> [sum of n_rank, ...] in rank order, without gradient (e.g. labels)."""
    if not is_distributed():
        return x
    return _all_gather_rows(x.detach(), _gather_sizes(x))
