"""I3DHead: global average pooling, dropout and a linear classifier."""
from typing import Any, Dict, Optional

import torch
import torch.nn as nn
from mmcv.cnn import normal_init

from ..builder import HEADS
from .base import BaseHead


@HEADS.register_module()
class I3DHead(BaseHead):
    """Classification head of I3D / PoseC3D.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels of the backbone output.
        loss_cls (dict): config of the classification loss.
        spatial_type (str, optional): 'avg' pools over T, H and W; None expects already pooled features.
        dropout_ratio (float): dropout probability before the classifier (``dropout`` is accepted as an alias,
            as some pyskl configs write it).
        init_std (float): std of the normal initialisation of ``fc_cls``.
        **kwargs: ``multi_class``, ``label_smooth_eps`` (see :class:`BaseHead`).

    Shapes:
        x (Tensor): [N, in_channels, T, H, W] (or [N, in_channels] when ``spatial_type`` is None)
        output (Tensor): [N, num_classes]
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: Optional[Dict] = None,
                 spatial_type: Optional[str] = 'avg',
                 dropout_ratio: float = 0.5,
                 init_std: float = 0.01,
                 **kwargs: Any):
        if 'dropout' in kwargs:
            alias = kwargs.pop('dropout')
            if dropout_ratio not in (0.5, alias):
                raise ValueError(f'I3DHead got dropout={alias} and dropout_ratio={dropout_ratio}; give only one')
            dropout_ratio = alias
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if spatial_type not in ('avg', None):
            raise ValueError(f"I3DHead spatial_type={spatial_type!r}: use 'avg' or None")
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.avg_pool = nn.AdaptiveAvgPool3d((1, 1, 1)) if spatial_type == 'avg' else None

    def init_weights(self) -> None:
        """Normal initialisation (std ``init_std``) of the classifier, zero bias."""
        normal_init(self.fc_cls, std=self.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'I3DHead(in_channels={self.in_channels}) got features with {x.shape[1]} channels; '
                             'set in_channels to the backbone output channels')
        return self.fc_cls(x)
