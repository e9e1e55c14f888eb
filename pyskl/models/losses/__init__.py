from .base import BaseWeightedLoss
from .contrastive import SoftTargetContrastiveLoss, all_gather_no_grad, all_gather_with_grad, soft_target_cross_entropy
from .cross_entropy import CrossEntropyLoss
from .itm import HardNegativeSampler, ITMLoss

__all__ = [
    'BaseWeightedLoss', 'CrossEntropyLoss', 'SoftTargetContrastiveLoss', 'soft_target_cross_entropy',
    'all_gather_with_grad', 'all_gather_no_grad', 'HardNegativeSampler', 'ITMLoss'
]
