"""Soft-target video-text contrastive loss (ITC) with label-aware targets."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...utils.dist import is_distributed
from ..builder import LOSSES
from ..common.distributed import all_gather_no_grad, all_gather_with_grad


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
        if self.gather_distributed and is_distributed():
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
