"""Momentum-distilled video-text contrastive loss (ALBEF's ITC with a momentum model and feature queues)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

from ..builder import LOSSES
from ..common.momentum import distillation_targets
from .contrastive import SoftTargetContrastiveLoss, soft_target_cross_entropy


def _columns(batch_feat: torch.Tensor, labels: torch.Tensor, queued: Optional[torch.Tensor],
             queued_labels: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """[batch momentum features; queued features] and their labels: [N + K, D], [N + K]."""
    if queued is None:
        return batch_feat, labels
    if queued_labels is None or queued_labels.shape[0] != queued.shape[0]:
        raise ValueError('MomentumDistillationLoss: give one label per queued feature (queue [K, D], labels [K])')
    feats = torch.cat([batch_feat, queued.to(device=batch_feat.device, dtype=batch_feat.dtype)])
    return feats, torch.cat([labels, queued_labels.to(labels.device)])


@LOSSES.register_module()
class MomentumDistillationLoss(nn.Module):
    """Symmetric contrastive loss against momentum features, with targets distilled from the momentum model.

    With ``v``/``t`` the online normalised features of the clips and of their class sentences, ``v_m``/``t_m`` the
    momentum model's, and the queued momentum features (labels included) appended as extra columns::

        text_cols = [t_m; text queue]      video_cols = [v_m; video queue]
        logits_v2t = v @ text_cols.T / temp            logits_t2v = t @ video_cols.T / temp
        targets_v2t = alpha * softmax(v_m @ text_cols.T / temp) + (1 - alpha) * same_label(labels, text_cols)
        targets_t2v = alpha * softmax(t_m @ video_cols.T / temp) + (1 - alpha) * same_label(labels, video_cols)
        loss = (CE(logits_v2t, targets_v2t) + CE(logits_t2v, targets_t2v)) / 2 * loss_weight

    where ``same_label`` is the mask of the columns with the row's label, each row normalised to sum 1 (a queue
    filler labelled -100 matches no row), and ``CE`` the soft-target cross entropy. The targets carry no gradient
    (nor does the temperature inside them); the logits pass gradients to ``v``, ``t`` and ``temp``.

    Args:
        loss_weight (float): factor applied to the loss.

    Shapes:
        video_feat, text_feat (Tensor): [B, D] online features (normalised)
        video_feat_m, text_feat_m (Tensor): [B, D] momentum features (normalised)
        labels (Tensor): [B] class of each clip
        video_queue, text_queue (Tensor, optional): [K, D] queued momentum features, with
        video_queue_labels, text_queue_labels (Tensor, optional): [K] their labels
        output (Tensor): [] the loss
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self,
                video_feat: torch.Tensor,
                text_feat: torch.Tensor,
                video_feat_m: torch.Tensor,
                text_feat_m: torch.Tensor,
                labels: torch.Tensor,
                temp: Union[float, torch.Tensor],
                alpha: float,
                video_queue: Optional[torch.Tensor] = None,
                video_queue_labels: Optional[torch.Tensor] = None,
                text_queue: Optional[torch.Tensor] = None,
                text_queue_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The distilled loss of a batch (shapes in the class docstring)."""
        shapes = [tuple(f.shape) for f in (video_feat, text_feat, video_feat_m, text_feat_m)]
        if len(set(shapes)) != 1 or len(shapes[0]) != 2:
            raise ValueError(f'MomentumDistillationLoss expects online and momentum features of one shape [B, D], '
                             f'got {shapes}')
        labels = labels.reshape(-1)
        if labels.shape[0] != video_feat.shape[0]:
            raise ValueError(f'MomentumDistillationLoss: {labels.shape[0]} labels for {video_feat.shape[0]} clips')
        with torch.no_grad():
            text_cols, text_col_labels = _columns(text_feat_m, labels, text_queue, text_queue_labels)
            video_cols, video_col_labels = _columns(video_feat_m, labels, video_queue, video_queue_labels)
            fixed_temp = temp.detach() if isinstance(temp, torch.Tensor) else temp
            dtype = torch.promote_types(video_feat.dtype, torch.float32)
            targets_v2t = distillation_targets(video_feat_m @ text_cols.t() / fixed_temp,
                                               SoftTargetContrastiveLoss.get_targets(labels, text_col_labels, dtype),
                                               alpha)
            targets_t2v = distillation_targets(text_feat_m @ video_cols.t() / fixed_temp,
                                               SoftTargetContrastiveLoss.get_targets(labels, video_col_labels, dtype),
                                               alpha)
        logits_v2t = video_feat @ text_cols.t().to(video_feat.dtype) / temp
        logits_t2v = text_feat @ video_cols.t().to(text_feat.dtype) / temp
        loss = (soft_target_cross_entropy(logits_v2t, targets_v2t) + soft_target_cross_entropy(logits_t2v, targets_t2v))
        return loss / 2 * self.loss_weight

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
