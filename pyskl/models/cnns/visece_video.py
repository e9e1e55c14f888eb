"""Video encoders of the language branch: a ResNet3dSlowOnly turned into a sequence of per-frame features."""
from typing import Any, List, Optional, Tuple

import torch
import torch.nn as nn

from ...utils.logger import get_root_logger
from ..builder import BACKBONES
from ..common.init import init_linear_layers
from .resnet3d import ResNet3d, load_pretrained_weights
from .resnet3d_slowonly import ResNet3dSlowOnly

WEIGHT_INITS = ('kaiming', 'pytorch')


def resnet_out_channels(resnet: ResNet3d) -> int:
    """Channels of the single stage a ResNet3d returns (an error when it returns several)."""
    if len(resnet.out_indices) != 1:
        raise ValueError(f'the video encoder needs one output stage, but the {type(resnet).__name__} has '
                         f'out_indices={resnet.out_indices}; keep a single index, e.g. '
                         f'out_indices=({resnet.num_stages - 1}, )')
    return resnet.block.expansion * resnet.base_channels * 2**resnet.out_indices[0]


class SlowOnlyFrameEncoder(nn.Module):
    """ResNet3dSlowOnly whose output is averaged over space into one feature per (temporal) frame.

    The inner ResNet (``self.resnet``) keeps pyskl's parameter names, so a PoseC3D checkpoint (a whole
    Recognizer3D with ``backbone.`` keys, or a bare backbone) loads into it with ``pretrained=``.

    Initialisation (``weight_init``): ``'kaiming'`` (default) runs pyskl's ResNet init (Kaiming convolutions, unit
    BN, the last BN of every residual block at zero when ``zero_init_residual``) and draws every Linear from
    normal(0, in_features**-0.5); ``'pytorch'`` keeps what the layers got when they were built (mmcv ConvModule's
    Kaiming convolutions and unit BN, no zero-initialised residual branch, PyTorch's default Linear), which is what
    the original SkeletonCLIP++ code trained from (its ``init_weights`` only touched 2D layers). Either way
    ``pretrained`` is loaded afterwards.

    Args:
        res_out_channels (int): channels of the ResNet output; checked against the real width, which is
            ``4 * base_channels * 2**out_indices[0]`` for the default Bottleneck blocks (512 for PoseC3D).
        pretrained (str, optional): local pyskl checkpoint loaded into the ResNet by ``init_weights``.
        weight_init (str): ``'kaiming'`` or ``'pytorch'``, see above.
        **slowonly_args: arguments of :class:`ResNet3dSlowOnly` (``in_channels``, ``base_channels``,
            ``num_stages``, ``stage_blocks``, ``out_indices``, ``spatial_strides``, ...).

    Shapes:
        x (Tensor): [N, in_channels, T, H, W], e.g. [N, 17, 48, 56, 56]
        ResNet output: [N, res_out_channels, T', H', W'], e.g. [N, 512, 24, 7, 7]
        output (Tensor): [N, T', res_out_channels], e.g. [N, 24, 512]
    """

    def __init__(self, res_out_channels: int = 512, pretrained: Optional[str] = None, weight_init: str = 'kaiming',
                 **slowonly_args: Any):
        super().__init__()
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(f'{type(self).__name__} pretrained must be a checkpoint path or None, got {pretrained!r}')
        if weight_init not in WEIGHT_INITS:
            raise ValueError(f'{type(self).__name__} weight_init={weight_init!r}: use one of {WEIGHT_INITS}')
        self.pretrained = pretrained
        self.weight_init = weight_init
        self.resnet = ResNet3dSlowOnly(pretrained=None, **slowonly_args)
        real = resnet_out_channels(self.resnet)
        if real != res_out_channels:
            raise ValueError(f'{type(self).__name__}: res_out_channels={res_out_channels} but the ResNet3dSlowOnly '
                             f'(depth {self.resnet.depth}, base_channels {self.resnet.base_channels}, output stage '
                             f'{self.resnet.out_indices[0]}) outputs {real} channels; set res_out_channels={real}')
        self.res_out_channels = res_out_channels
        self.out_channels = res_out_channels

    def load_pretrained(self, path: str) -> Tuple[List[str], List[str]]:
        """Load a pyskl checkpoint into the ResNet; returns (missing keys, unexpected keys) and logs them."""
        logger = get_root_logger()
        logger.info(f'{type(self).__name__}: loading the ResNet weights from {path}')
        return load_pretrained_weights(self.resnet, path, prefix='backbone.', logger=logger)

    def init_weights(self) -> None:
        """Initialise every layer as ``weight_init`` says (``'pytorch'``: leave them as built), then load
        ``pretrained`` if given."""
        if self.weight_init == 'kaiming':
            self.resnet.init_weights()
            init_linear_layers(self)
        if self.pretrained:
            self.load_pretrained(self.pretrained)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, T, H, W] -> ResNet features averaged over H and W, [N, T', res_out_channels]."""
        if x.dim() != 5:
            raise ValueError(f'{type(self).__name__} expects clips of shape [N, C, T, H, W], got {tuple(x.shape)}')
        feat = self.resnet(x)
        return feat.mean(dim=(3, 4)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, T, H, W] -> per-frame features [N, T', out_channels]."""
        return self.frame_features(x)


@BACKBONES.register_module()
class Visece_Video_PACL(SlowOnlyFrameEncoder):
    """ResNet3dSlowOnly and spatial averaging: one ``res_out_channels`` feature per (temporal) frame.

    The per-frame features of the PACL recognizer, which embeds and aligns the frames itself.

    Args:
        res_out_channels (int): channels of the ResNet output, checked against the real width (512 for PoseC3D).
        pretrained (str, optional): local pyskl checkpoint (Recognizer3D with ``backbone.`` keys, or a bare
            backbone) loaded into the ResNet by ``init_weights``.
        weight_init (str): ``'kaiming'`` (pyskl's init) or ``'pytorch'`` (as built: the original code's); see
            :class:`SlowOnlyFrameEncoder`.
        **slowonly_args: arguments of :class:`ResNet3dSlowOnly`.

    Shapes:
        x (Tensor): [N, in_channels, T, H, W], e.g. [N, 17, 48, 56, 56]
        ResNet output: [N, res_out_channels, T', H', W'], e.g. [N, 512, 24, 7, 7]
        output (Tensor): [N, T', res_out_channels], e.g. [N, 24, 512]
    """


@BACKBONES.register_module()
class Visece_Video(SlowOnlyFrameEncoder):
    """ResNet3dSlowOnly, spatial averaging, and a Linear to the text width: one feature per (temporal) frame.

    Args:
        res_out_channels (int): channels of the ResNet output, checked against the real width (512 for PoseC3D).
        output_channels (int): width of the per-frame features after the Linear (768: bert-base's width).
        pretrained (str, optional): local pyskl checkpoint (Recognizer3D with ``backbone.`` keys, or a bare
            backbone) loaded into the ResNet by ``init_weights``.
        weight_init (str): ``'kaiming'`` (pyskl's init) or ``'pytorch'`` (as built: the original code's); see
            :class:`SlowOnlyFrameEncoder`.
        **slowonly_args: arguments of :class:`ResNet3dSlowOnly`.

    Shapes:
        x (Tensor): [N, in_channels, T, H, W], e.g. [N, 17, 48, 56, 56]
        ResNet output: [N, res_out_channels, T', H', W'], e.g. [N, 512, 24, 7, 7]
        output (Tensor): [N, T', output_channels], e.g. [N, 24, 768]
    """

    def __init__(self,
                 res_out_channels: int = 512,
                 output_channels: int = 768,
                 pretrained: Optional[str] = None,
                 weight_init: str = 'kaiming',
                 **slowonly_args: Any):
        super().__init__(res_out_channels=res_out_channels, pretrained=pretrained, weight_init=weight_init,
                         **slowonly_args)
        self.linear = nn.Linear(res_out_channels, output_channels)
        self.output_channels = output_channels
        self.out_channels = output_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, T, H, W] -> per-frame features [N, T', output_channels]."""
        return self.linear(self.frame_features(x))
