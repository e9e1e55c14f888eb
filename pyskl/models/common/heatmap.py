"""`HeatmapGenerator`: the heatmap volumes drawn inside the model, on its device, from compact keypoints.

A thin module around the torch engine of `pyskl.heatmaps` (`draw_heatmap_volumes`): the recognizers hold one per
mode (``train_cfg`` / ``test_cfg`` ``heatmap``, see `BaseRecognizer`) and feed it the keypoints that
``FormatCompactKeypoints`` ends the pipeline with (`KEYPOINT_INPUTS`).
"""
from typing import Any, Optional, Sequence, Union

import torch
import torch.nn as nn

from ...heatmaps import KEYPOINT_INPUTS, HeatmapSpec, draw_heatmap_volumes

__all__ = ['HeatmapGenerator', 'KEYPOINT_INPUTS']


class HeatmapGenerator(nn.Module):
    """Draw the heatmap volumes of a batch of keypoint clips with torch, on the keypoints' device.

    Takes the arguments of `GeneratePoseTarget` (`pyskl.heatmaps.HeatmapSpec`) and gives the same volumes as the
    CPU pipeline ``GeneratePoseTarget -> FormatShape('NCTHW_Heatmap')``, for whole batches at once. It has no
    parameters or buffers, so it adds nothing to checkpoints.

    Args:
        max_elements (int): bound on the elements of one temporary (clips are drawn in chunks below it).
        **heatmap_args: ``sigma``, ``use_score``, ``with_kp``, ``with_limb``, ``skeletons``, ``double``,
            ``left_kp``, ``right_kp``, ``left_limb``, ``right_limb``, ``scaling``: as in `GeneratePoseTarget`.

    Shapes:
        keypoint (Tensor): [B, num_clips, M, T, V, 2] (a third coordinate is ignored); absent people are padded
            with score 0 (and coordinates far outside the image)
        keypoint_score (Tensor, optional): [B, num_clips, M, T, V]; None means 1 everywhere
        img_shape: (H, W), or [B, 2] with equal rows
        output (Tensor): float32 [B, num_clips (x2 with double), C, T, H', W'] with ``C = V`` (with_kp)
            ``+ len(skeletons)`` (with_limb) and ``H', W'`` the rounded ``scaling * (H, W)``; with ``double`` the
            mirrored clips follow the originals
    """

    def __init__(self, *, max_elements: int = 1 << 24, **heatmap_args: Any) -> None:
        super().__init__()
        self.spec = HeatmapSpec(**heatmap_args)
        self.max_elements = int(max_elements)

    def extra_repr(self) -> str:
        return repr(self.spec)

    def forward(self,
                keypoint: torch.Tensor,
                keypoint_score: Optional[torch.Tensor],
                img_shape: Union[torch.Tensor, Sequence[int]]) -> torch.Tensor:
        """keypoint [B, num_clips, M, T, V, 2] -> heatmap volumes [B, num_clips (x2), C, T, H', W']."""
        return draw_heatmap_volumes(self.spec, keypoint, keypoint_score, img_shape, self.max_elements)
