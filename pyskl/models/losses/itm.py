"""Video-text matching (ITM): hard-negative sampling and the binary matching loss."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..builder import LOSSES


class HardNegativeSampler(nn.Module):
    """Draw one hard negative column for every row of a similarity matrix.

    Row i picks column j with probability ``softmax(similarity[i])[j]`` restricted to the columns whose label
    differs from the row's label (same-label entries get probability zero, the others are renormalised), so
    the columns the model finds most similar to the row, while being of another class, are drawn most often.
    All rows are drawn at once with ``torch.multinomial`` on the similarity's device: no loop over the rows
    and no host synchronisation.

    A row whose columns all share its label has no negative: ``valid`` is False there and the drawn index is
    an arbitrary column, to be masked out by the caller (e.g. as the ``weight`` of :class:`ITMLoss`).

    The similarities are detached: sampling passes no gradient.

    Shapes:
        similarity (Tensor): [B, N], e.g. ``v @ t.T / temp`` (videos x sentences) or its transpose
        row_labels (Tensor): [B] labels of the rows
        col_labels (Tensor): [N] labels of the columns
        output: (indices [B] int64 in [0, N), valid [B] bool)
    """

    def forward(self,
                similarity: torch.Tensor,
                row_labels: torch.Tensor,
                col_labels: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Sample a negative column per row (shapes in the class docstring); ``generator`` seeds the draw."""
        if similarity.dim() != 2:
            raise ValueError(f'HardNegativeSampler expects a [B, N] similarity matrix, got {tuple(similarity.shape)}')
        row_labels, col_labels = row_labels.reshape(-1), col_labels.reshape(-1)
        if row_labels.shape[0] != similarity.shape[0] or col_labels.shape[0] != similarity.shape[1]:
            raise ValueError(f'HardNegativeSampler: similarity {tuple(similarity.shape)} does not match '
                             f'{row_labels.shape[0]} row labels and {col_labels.shape[0]} column labels')
        allowed = row_labels.to(similarity.device)[:, None] != col_labels.to(similarity.device)[None, :]
        valid = allowed.any(dim=1)
        logits = similarity.detach().float().masked_fill(~allowed, float('-inf'))
        # rows without a negative get a uniform (finite) distribution so that multinomial stays well defined
        logits = torch.where(valid[:, None], logits, torch.zeros_like(logits))
        probs = F.softmax(logits, dim=1)
        indices = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return indices, valid


@LOSSES.register_module()
class ITMLoss(nn.Module):
    """Binary cross entropy of a matching head over positive and negative (video, sentence) pairs.

    ``itm_logits`` are the two-way scores (no match, match) of every pair; the target is 1 for a positive pair
    and 0 for a negative one. Pairs can be weighted (weight 0 drops a pair, e.g. a negative that could not be
    sampled); the loss is the weighted mean of the per-pair cross entropy, and the accuracy the weighted share
    of pairs whose argmax is the target. With every weight zero both are zero (the loss keeps its graph).

    Args:
        loss_weight (float): factor applied to the loss.

    Shapes:
        itm_logits (Tensor): [P, 2]
        itm_labels (Tensor): [P] int64 in {0, 1}; :meth:`get_labels` gives ``[1] * B + [0] * (P - B)``
        weight (Tensor, optional): [P], 0 / 1 (or any non-negative) per pair
        output: (loss [], accuracy [])
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(loss_weight)

    @staticmethod
    def get_labels(num_pos: int, num_neg: int, device: Optional[torch.device] = None) -> torch.Tensor:
        """Targets of ``num_pos`` positive pairs followed by ``num_neg`` negative ones: [num_pos + num_neg]."""
        return torch.cat([torch.ones(num_pos, dtype=torch.long, device=device),
                          torch.zeros(num_neg, dtype=torch.long, device=device)])

    def forward(self,
                itm_logits: torch.Tensor,
                itm_labels: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """The weighted matching loss and accuracy (shapes in the class docstring)."""
        if itm_logits.dim() != 2 or itm_logits.shape[1] != 2:
            raise ValueError(f'ITMLoss expects two-way logits [P, 2], got {tuple(itm_logits.shape)}')
        itm_labels = itm_labels.reshape(-1).to(itm_logits.device).long()
        if itm_labels.shape[0] != itm_logits.shape[0]:
            raise ValueError(f'ITMLoss: {itm_labels.shape[0]} labels for {itm_logits.shape[0]} pairs')
        per_pair = F.cross_entropy(itm_logits, itm_labels, reduction='none')
        correct = (itm_logits.detach().argmax(dim=1) == itm_labels).to(per_pair.dtype)
        if weight is None:
            return per_pair.mean() * self.loss_weight, correct.mean()
        weight = weight.reshape(-1).to(device=per_pair.device, dtype=per_pair.dtype)
        if weight.shape[0] != per_pair.shape[0]:
            raise ValueError(f'ITMLoss: {weight.shape[0]} weights for {per_pair.shape[0]} pairs')
        total = weight.sum().clamp(min=1e-12)
        loss = (per_pair * weight).sum() / total
        accuracy = (correct * weight).sum() / total
        return loss * self.loss_weight, accuracy
