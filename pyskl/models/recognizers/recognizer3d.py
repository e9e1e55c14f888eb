"""Recognizer3D: clips through a 3D backbone and a classification head (PoseC3D)."""
from typing import Any, Dict

import numpy as np
import torch

from ..builder import RECOGNIZERS
from .base import BaseRecognizer


@RECOGNIZERS.register_module()
class Recognizer3D(BaseRecognizer):
    """Recognizer for clip volumes, e.g. keypoint heatmaps.

    Training flattens the clips of every sample into the batch and repeats each label per clip (the checks and the
    repetition of :class:`BaseRecognizer`); testing scores every clip and averages them per sample with
    ``test_cfg['average_clips']``.

    Args:
        backbone (dict): backbone config, e.g. ``dict(type='ResNet3dSlowOnly', ...)``.
        cls_head (dict): head config, e.g. ``dict(type='I3DHead', in_channels=512, num_classes=60)``.
        neck (dict, optional), train_cfg (dict, optional), test_cfg (dict, optional): see BaseRecognizer.

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1] class indices (or [B, num_classes] soft labels)
        forward_test output (ndarray): [B, num_classes] (or [B, C'] pooled features with ``feat_ext``)
    """

    def forward_train(self, imgs: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> Dict[str, torch.Tensor]:
        """imgs [B, num_clips, C, T, H, W], label [B] -> dict(loss_cls, top1_acc, top5_acc)."""
        if not self.with_cls_head:
            raise RuntimeError('Recognizer3D needs a cls_head to train; add one to the model config')
        self._check_imgs(imgs)
        batch, num_clips = imgs.shape[:2]
        x = self.extract_feat(imgs.reshape((-1, ) + tuple(imgs.shape[2:])))
        cls_score = self.cls_head(x)
        label = self._clip_labels(torch.as_tensor(label, device=cls_score.device), batch, num_clips)
        return self.cls_head.loss(cls_score, label, **kwargs)

    def forward_test(self, imgs: torch.Tensor, **kwargs: Any) -> np.ndarray:
        """imgs [B, num_clips, C, T, H, W] -> clip-averaged scores [B, num_classes] (numpy)."""
        if not (self.with_cls_head or self.feat_ext):
            raise RuntimeError('Recognizer3D needs a cls_head to test (or test_cfg feat_ext=True)')
        self._check_imgs(imgs)
        batch, num_clips = imgs.shape[:2]
        flat = imgs.reshape((-1, ) + tuple(imgs.shape[2:]))
        if self.max_testing_views is None:
            feat = self.extract_feat(flat)
        else:
            step = int(self.max_testing_views)
            feat = torch.cat([self.extract_feat(flat[i:i + step]) for i in range(0, flat.shape[0], step)])
        if self.feat_ext:
            pooled = feat.reshape(feat.shape[0], feat.shape[1], -1).mean(dim=2)
            return pooled.reshape(batch, num_clips, -1).mean(dim=1).detach().cpu().numpy()
        cls_score = self.average_clip(self.cls_head(feat), num_clips)
        return cls_score.detach().cpu().numpy()
