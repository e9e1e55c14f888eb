from ..common.distributed import all_gather_no_grad, all_gather_with_grad  # kept here for older imports
from .base import BaseWeightedLoss
from .contrastive import SoftTargetContrastiveLoss, soft_target_cross_entropy
from .cross_entropy import CrossEntropyLoss
from .distillation import MomentumDistillationLoss
from .itm import HardNegativeSampler, ITMLoss

__all__ = [
    'BaseWeightedLoss', 'CrossEntropyLoss', 'SoftTargetContrastiveLoss', 'soft_target_cross_entropy',
    'MomentumDistillationLoss', 'all_gather_with_grad', 'all_gather_no_grad', 'HardNegativeSampler', 'ITMLoss'
]
