"""Soft-target video-text contrastive loss (ITC) with label-aware targets."""
from typing import List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from ..builder import LOSSES


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``-sum_j targets[i, j] * log_softmax(logits[i])[j]``.

    Args:
        logits (Tensor): [B, N] scores.
        targets (Tensor): [B, N] target distributions (rows normally sum to 1; an all-zero row contributes 0).

    Returns:
        Tensor: [] the loss.
    """
    if logits.shape != targets.shape:
        raise ValueError(f'soft_target_cross_entropy: logits {tuple(logits.shape)} and targets '
                         f'{tuple(targets.shape)} differ in shape')
    log_prob = F.log_softmax(logits, dim=1)
    return -(targets.to(log_prob.dtype) * log_prob).sum(dim=1).mean()


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


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
    """[n_rank, ...] on every rank -> [sum of n_rank, ...], rank order; gradients flow back to every rank's rows.

    Without an initialised process group (or with one process) ``x`` is returned as it is.
    """
    if not _distributed():
        return x
    return _AllGatherWithGrad.apply(x, _gather_sizes(x))


def all_gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """[n_rank, ...] on every rank -> [sum of n_rank, ...] in rank order, without gradient (e.g. labels)."""
    if not _distributed():
        return x
    return _all_gather_rows(x.detach(), _gather_sizes(x))


@LOSSES.register_module()
class SoftTargetContrastiveLoss(nn.Module):
    """Symmetric video-text contrastive loss whose targets treat every same-label pair as positive.

    With features normalised by the caller, ``logits_v2t = v @ t.T / temp`` and ``logits_t2v = t @ v.T / temp``;
    the target of row i is the mask of the columns with the same label as row i, normalised to sum 1::

        loss = (CE(logits_v2t, targets) + CE(logits_t2v, targets_t2v)) / 2 * loss_weight

    where ``CE(logits, targets) = mean_i -sum_j targets[i, j] * log_softmax(logits[i])[j]`` and
    ``targets_t2v`` is the transposed mask normalised per row. Explicit targets (e.g. mixed with a momentum
    model's similarities) replace the label-based ones.

    With ``gather_distributed=True`` and an initialised process group, the features and labels of every rank
    are all-gathered: each rank scores its own rows against the columns of the global batch, and the
    gathered features carry gradients back to the rank that produced them (so the data-parallel average of
    the gradients is the gradient of the loss of the whole global batch).

    Args:
        loss_weight (float): factor applied to the loss.
        gather_distributed (bool): compare against the features of all ranks. Default: False.

    Shapes:
        video_feat (Tensor): [B, D] (normalised)
        text_feat (Tensor): [N, D] (normalised); N = B for one sentence per clip
        labels (Tensor): [B] class of each clip
        text_labels (Tensor, optional): [N] class of each sentence; default ``labels`` (then N must be B)
        targets (Tensor, optional): [B, N] video-to-text targets (after gathering: [B, N_global])
        targets_t2v (Tensor, optional): [N, B] text-to-video targets (after gathering: [N, B_global])
        output (Tensor): [] the loss
    """

    def __init__(self, loss_weight: float = 1.0, gather_distributed: bool = False):
        super().__init__()
        self.loss_weight = float(loss_weight)
        self.gather_distributed = bool(gather_distributed)

    @staticmethod
    def get_targets(labels_a: torch.Tensor, labels_b: torch.Tensor, dtype: torch.dtype = torch.float32) -> \
            torch.Tensor:
        """Same-label mask [B, N] with every row normalised to sum 1 (a row without positives stays zero).

        Args:
            labels_a (Tensor): [B] labels of the rows.
            labels_b (Tensor): [N] labels of the columns.
            dtype (torch.dtype): dtype of the result.
        """
        mask = (labels_a.reshape(-1, 1) == labels_b.reshape(1, -1)).to(dtype)
        return mask / mask.sum(dim=1, keepdim=True).clamp(min=1)

    @staticmethod
    def get_logits(a: torch.Tensor, b: torch.Tensor, temp: Union[float, torch.Tensor]) -> torch.Tensor:
        """Similarity logits ``a @ b.T / temp``: a [B, D], b [N, D] -> [B, N]."""
        return a @ b.t() / temp

    @staticmethod
    def _normalise_rows(targets: torch.Tensor) -> torch.Tensor:
        return targets / targets.sum(dim=1, keepdim=True).clamp(min=1e-12)

    def forward(self,
                video_feat: torch.Tensor,
                text_feat: torch.Tensor,
                labels: torch.Tensor,
                temp: Union[float, torch.Tensor],
                text_labels: Optional[torch.Tensor] = None,
                targets: Optional[torch.Tensor] = None,
                targets_t2v: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The symmetric soft-target contrastive loss of a batch (shapes in the class docstring)."""
        if video_feat.dim() != 2 or text_feat.dim() != 2 or video_feat.shape[1] != text_feat.shape[1]:
            raise ValueError(f'SoftTargetContrastiveLoss expects video_feat [B, D] and text_feat [N, D], got '
                             f'{tuple(video_feat.shape)} and {tuple(text_feat.shape)}')
        labels = labels.reshape(-1)
        if labels.shape[0] != video_feat.shape[0]:
            raise ValueError(f'SoftTargetContrastiveLoss: {labels.shape[0]} labels for {video_feat.shape[0]} clips')
        if text_labels is None:
            if text_feat.shape[0] != video_feat.shape[0]:
                raise ValueError(f'SoftTargetContrastiveLoss: {text_feat.shape[0]} sentences for '
                                 f'{video_feat.shape[0]} clips; pass text_labels when they differ')
            text_labels = labels
        text_labels = text_labels.reshape(-1)
        if text_labels.shape[0] != text_feat.shape[0]:
            raise ValueError(f'SoftTargetContrastiveLoss: {text_labels.shape[0]} text_labels for '
                             f'{text_feat.shape[0]} sentences')

        all_video, all_text, all_labels, all_text_labels = video_feat, text_feat, labels, text_labels
        if self.gather_distributed and _distributed():
            all_video = all_gather_with_grad(video_feat)
            all_text = all_gather_with_grad(text_feat)
            all_labels = all_gather_no_grad(labels)
            all_text_labels = all_gather_no_grad(text_labels)

        logits_v2t = self.get_logits(video_feat, all_text, temp)
        logits_t2v = self.get_logits(text_feat, all_video, temp)
        dtype = torch.promote_types(logits_v2t.dtype, torch.float32)
        if targets is None:
            targets = self.get_targets(labels, all_text_labels, dtype)
        if targets_t2v is None:
            if all_labels is labels and all_text_labels is text_labels:
                targets_t2v = self._normalise_rows(targets.t())
            else:
                targets_t2v = self.get_targets(text_labels, all_labels, dtype)
        loss = (soft_target_cross_entropy(logits_v2t, targets) + soft_target_cross_entropy(logits_t2v, targets_t2v))
        return loss / 2 * self.loss_weight
