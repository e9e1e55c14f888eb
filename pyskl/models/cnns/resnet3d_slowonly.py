"""ResNet3dSlowOnly: the PoseC3D backbone."""
from collections.abc import Sequence
from typing import Dict, Optional

from ..builder import BACKBONES
from .resnet3d import IntOrPair, ResNet3d


@BACKBONES.register_module()
class ResNet3dSlowOnly(ResNet3d):
    """SlowOnly 3D ResNet: a spatial stem (1x7x7) and temporal kernels only in the later stages.

    The defaults are those of PoseC3D on 17-channel keypoint heatmaps: three stages with 32 base channels,
    no spatial downsampling in the stem, spatial strides (2, 2, 2) and temporal strides (1, 1, 2). Every
    argument of :class:`ResNet3d` is accepted, so pyskl's backbone configs build unchanged, e.g.
    ``dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
    stage_blocks=(4, 6, 3), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
    spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2))``.

    Args:
        depth (int): 50 by default (Bottleneck3d blocks).
        pretrained (str, optional): local checkpoint loaded by ``init_weights``.
        stage_blocks (tuple[int], optional): blocks per stage, e.g. (4, 6, 3).
        in_channels (int): heatmap channels (keypoints or limbs).
        base_channels (int): stem channels.
        num_stages (int): number of residual stages.
        out_indices (tuple[int]): stages whose outputs are returned.
        spatial_strides, temporal_strides, dilations (tuple[int]): per stage.
        conv1_kernel (tuple[int]): stem kernel (T, H, W).
        conv1_stride, pool1_stride (tuple[int]): (temporal, spatial) strides of the stem and its max pooling.
        inflate (tuple[int]): per stage whether blocks have 3x1x1 temporal kernels.
        **kwargs: any other :class:`ResNet3d` argument (``with_pool2``, ``style``, ``norm_eval``,
            ``frozen_stages``, ``zero_init_residual``, ``conv_cfg``, ``norm_cfg``, ``act_cfg``, ``lateral``, ...).

    Shapes:
        x (Tensor): [N, in_channels, T, H, W], e.g. [N, 17, 48, 56, 56]
        output (Tensor): [N, base_channels * 2**(num_stages - 1) * 4, T', H', W'], e.g. [N, 512, 24, 7, 7]
    """

    def __init__(self,
                 depth: int = 50,
                 pretrained: Optional[str] = None,
                 stage_blocks: Optional[Sequence] = None,
                 in_channels: int = 17,
                 base_channels: int = 32,
                 num_stages: int = 3,
                 out_indices: Sequence = (2, ),
                 spatial_strides: Sequence = (2, 2, 2),
                 temporal_strides: Sequence = (1, 1, 2),
                 dilations: Sequence = (1, 1, 1),
                 conv1_kernel: Sequence = (1, 7, 7),
                 conv1_stride: IntOrPair = (1, 1),
                 pool1_stride: IntOrPair = (1, 1),
                 inflate: Sequence = (0, 1, 1),
                 **kwargs: Dict):
        super().__init__(
            depth=depth,
            pretrained=pretrained,
            stage_blocks=stage_blocks,
            in_channels=in_channels,
            base_channels=base_channels,
            num_stages=num_stages,
            out_indices=out_indices,
            spatial_strides=spatial_strides,
            temporal_strides=temporal_strides,
            dilations=dilations,
            conv1_kernel=conv1_kernel,
            conv1_stride=conv1_stride,
            pool1_stride=pool1_stride,
            inflate=inflate,
            **kwargs)
