from .base import BaseWeightedLoss
from .cross_entropy import CrossEntropyLoss

__all__ = ['BaseWeightedLoss', 'CrossEntropyLoss']
