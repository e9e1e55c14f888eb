"""Base class of classification heads: the loss and the training accuracies."""
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Optional

import torch
import torch.nn as nn

from ..builder import build_loss


def top_k_hits(cls_score: torch.Tensor, label: torch.Tensor, k: int) -> torch.Tensor:
    """Fraction of rows whose label is among the ``k`` highest scores.

    Args:
        cls_score (Tensor): [B, num_classes]
        label (Tensor): [B] class indices

    Returns:
        Tensor: [] (a float scalar on ``cls_score``'s device)
    """
    top = cls_score.topk(min(k, cls_score.shape[1]), dim=1).indices
    return (top == label.view(-1, 1)).any(dim=1).float().mean()


class BaseHead(nn.Module, metaclass=ABCMeta):
    """A classification head: ``forward`` maps features to class scores; ``loss`` scores them.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels of the input features.
        loss_cls (dict): config of the classification loss.
        multi_class (bool): labels are multi-hot vectors (no accuracy is computed).
        label_smooth_eps (float): label smoothing applied to multi-hot / soft labels.

    Shapes (of ``loss``):
        cls_score (Tensor): [B, num_classes]
        label (Tensor): [B] class indices, [B, 1], or [B, num_classes] soft / multi-hot labels
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: Optional[Dict] = None,
                 multi_class: bool = False,
                 label_smooth_eps: float = 0.0):
        super().__init__()
        if num_classes < 1 or in_channels < 1:
            raise ValueError(f'{type(self).__name__} needs positive num_classes and in_channels, '
                             f'got num_classes={num_classes}, in_channels={in_channels}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.loss_cls = build_loss(dict(type='CrossEntropyLoss') if loss_cls is None else dict(loss_cls))
        self.multi_class = multi_class
        self.label_smooth_eps = label_smooth_eps

    @abstractmethod
    def init_weights(self) -> None:
        """Initialise the head's layers."""

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features to class scores [B, num_classes]."""

    def _normalise_label(self, cls_score: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """Bring the label to [B] (indices) or [B, num_classes] (soft) without ever dropping the batch axis."""
        batch = cls_score.shape[0]
        if label.dim() == 0:
            label = label.view(1)
        if label.dim() == 1 and batch == 1 and label.shape[0] == self.num_classes and self.num_classes > 1:
            label = label.view(1, -1)
        if label.dim() == 2 and label.shape == (batch, 1) and self.num_classes > 1:
            label = label.view(batch)
        if label.shape[0] != batch:
            raise ValueError(f'{type(self).__name__}.loss: label of shape {tuple(label.shape)} does not match '
                             f'scores of shape {tuple(cls_score.shape)}')
        return label

    def loss(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> Dict[str, torch.Tensor]:
        """Classification loss plus top-1 / top-5 accuracy (top-5 only with at least 5 classes).

        Returns:
            dict[str, Tensor]: ``loss_cls`` and, for hard labels, ``top1_acc`` and ``top5_acc``.
        """
        label = self._normalise_label(cls_score, label)
        losses = dict()
        soft = label.shape == cls_score.shape
        if not soft and not self.multi_class:
            with torch.no_grad():
                losses['top1_acc'] = top_k_hits(cls_score.detach(), label, 1)
                if cls_score.shape[1] >= 5:
                    losses['top5_acc'] = top_k_hits(cls_score.detach(), label, 5)
        elif soft and self.label_smooth_eps != 0:
            label = (1 - self.label_smooth_eps) * label + self.label_smooth_eps / self.num_classes
        loss_cls = self.loss_cls(cls_score, label, **kwargs)
        if isinstance(loss_cls, dict):
            losses.update(loss_cls)
        else:
            losses['loss_cls'] = loss_cls
        return losses
