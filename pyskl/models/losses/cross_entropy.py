"""Cross-entropy with hard or soft labels."""
from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F

from ..builder import LOSSES
from .base import BaseWeightedLoss


@LOSSES.register_module()
class CrossEntropyLoss(BaseWeightedLoss):
    """Cross-entropy over class scores, with hard labels (class indices) or soft labels (distributions).

    Soft labels give ``-sum(target * log_softmax(score))`` per sample, averaged over the batch (with
    ``class_weight``: each class term is weighted and the sum is divided by ``sum(class_weight * target)``).

    Args:
        loss_weight (float): factor applied to the loss.
        class_weight (list[float], optional): one weight per class.

    Shapes:
        cls_score (Tensor): [B, num_classes]
        label (Tensor): [B] (int64 class indices) or [B, num_classes] (soft targets)
        output (Tensor): [] (a scalar)
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None):
        super().__init__(loss_weight=loss_weight)
        weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
        # not persistent: pyskl checkpoints hold no entry for it
        self.register_buffer('class_weight', weight, persistent=False)

    def _forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        if cls_score.dim() != 2:
            raise ValueError(f'CrossEntropyLoss expects cls_score of shape [B, num_classes], '
                             f'got {tuple(cls_score.shape)}')
        if self.class_weight is not None and self.class_weight.numel() != cls_score.shape[1]:
            raise ValueError(f'CrossEntropyLoss class_weight has {self.class_weight.numel()} entries but the '
                             f'scores have {cls_score.shape[1]} classes')
        if label.shape == cls_score.shape:
            if kwargs:
                raise TypeError(f'CrossEntropyLoss with soft labels takes no extra arguments, got {sorted(kwargs)}')
            log_prob = F.log_softmax(cls_score, dim=1)
            label = label.to(log_prob.dtype)
            if self.class_weight is None:
                return -(label * log_prob).sum(dim=1).mean()
            weight = self.class_weight.to(log_prob.dtype).unsqueeze(0)
            return -(label * log_prob * weight).sum() / (label * weight).sum()
        if label.dim() != 1 or label.shape[0] != cls_score.shape[0]:
            raise ValueError(f'CrossEntropyLoss label of shape {tuple(label.shape)} matches neither hard labels '
                             f'[{cls_score.shape[0]}] nor soft labels {list(cls_score.shape)}')
        if self.class_weight is not None:
            kwargs['weight'] = self.class_weight.to(cls_score.dtype)
        return F.cross_entropy(cls_score, label.long(), **kwargs)
