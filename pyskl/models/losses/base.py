"""Base class of losses that scale their result by ``loss_weight``."""
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Union

import torch
import torch.nn as nn


class BaseWeightedLoss(nn.Module, metaclass=ABCMeta):
    """A loss whose value is multiplied by ``loss_weight``.

    Subclasses implement ``_forward``. When it returns a dict, only the entries whose key contains 'loss'
    are scaled (the others are logged metrics).

    Args:
        loss_weight (float): factor applied to the loss.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @abstractmethod
    def _forward(self, *args: Any, **kwargs: Any) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """Compute the unweighted loss."""

    def forward(self, *args: Any, **kwargs: Any) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        result = self._forward(*args, **kwargs)
        if isinstance(result, dict):
            return {k: v * self.loss_weight if 'loss' in k else v for k, v in result.items()}
        return result * self.loss_weight
