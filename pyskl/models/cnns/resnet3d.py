"""3D ResNet (inflated ResNet) with pyskl's parameter names.

Every convolution is an mmcv ``ConvModule`` (conv + BN + optional ReLU), so a parameter is called
``conv1.conv.weight``, ``conv1.bn.weight``, ``layer1.0.conv2.conv.weight``, ``layer1.0.downsample.bn.bias``
and so on, exactly as in pyskl checkpoints.
"""
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer, constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.logger import get_root_logger
from ..builder import BACKBONES

IntOrPair = Union[int, Sequence]


def _as_tuple(value, length: int, name: str) -> tuple:
    """Expand an int to ``length`` copies; check that a sequence has at least ``length`` items and cut it."""
    if isinstance(value, int):
        return (value, ) * length
    value = tuple(value)
    if len(value) < length:
        raise ValueError(f'{name}={value!r} has {len(value)} entries but num_stages={length} needs one per stage')
    return value[:length]


def _stride_pair(value: IntOrPair, name: str) -> Tuple[int, int]:
    """Read a (temporal, spatial) stride given as an int, a pair ``(t, s)`` or a triple ``(t, s, s)``."""
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) == 2:
        return int(value[0]), int(value[1])
    if len(value) == 3 and value[1] == value[2]:
        return int(value[0]), int(value[1])
    raise ValueError(f'{name}={value!r}: give a (temporal, spatial) pair such as (1, 2), or an int')


class BasicBlock3d(nn.Module):
    """Two 3x3 (or 3x3x3 when inflated) convolutions with a residual connection; ``expansion = 1``.

    Args:
        inplanes (int): input channels.
        planes (int): output channels.
        spatial_stride (int): stride over H and W of the first convolution.
        temporal_stride (int): stride over T of the first convolution.
        dilation (int): spatial dilation of the first convolution.
        downsample (nn.Module, optional): projection of the identity branch.
        style (str): 'pytorch' or 'caffe' (both put the stride in the first convolution here).
        inflate (bool): use 3x3x3 kernels instead of 1x3x3.
        inflate_style (str): only '3x1x1' is meaningful for this block.
        conv_cfg, norm_cfg, act_cfg (dict): layer configs for ``ConvModule``.
        with_cp (bool): trade compute for memory with gradient checkpointing.

    Shapes:
        x (Tensor): [N, inplanes, T, H, W] -> [N, planes, T / temporal_stride, H / spatial_stride, W / ...].
    """
    expansion = 1

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 spatial_stride: int = 1,
                 temporal_stride: int = 1,
                 dilation: int = 1,
                 downsample: Optional[nn.Module] = None,
                 style: str = 'pytorch',
                 inflate: bool = True,
                 inflate_style: str = '3x1x1',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None,
                 with_cp: bool = False):
        super().__init__()
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"BasicBlock3d style={style!r}: use 'pytorch' or 'caffe'")
        conv_cfg = conv_cfg or dict(type='Conv3d')
        norm_cfg = norm_cfg or dict(type='BN3d')
        act_cfg = act_cfg or dict(type='ReLU')
        if inflate:
            kernel1, padding1 = (3, 3, 3), (1, dilation, dilation)
            kernel2, padding2 = (3, 3, 3), (1, 1, 1)
        else:
            kernel1, padding1 = (1, 3, 3), (0, dilation, dilation)
            kernel2, padding2 = (1, 3, 3), (0, 1, 1)
        self.inplanes = inplanes
        self.planes = planes
        self.with_cp = with_cp
        self.conv1 = ConvModule(
            inplanes, planes, kernel1, stride=(temporal_stride, spatial_stride, spatial_stride), padding=padding1,
            dilation=(1, dilation, dilation), bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvModule(
            planes, planes * self.expansion, kernel2, stride=1, padding=padding2, bias=False, conv_cfg=conv_cfg,
            norm_cfg=norm_cfg, act_cfg=None)
        self.downsample = downsample
        self.relu = build_activation_layer(act_cfg)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class Bottleneck3d(nn.Module):
    """1x1 -> 3x3 -> 1x1 bottleneck with a residual connection; ``expansion = 4``.

    With ``inflate`` and ``inflate_style='3x1x1'`` the first convolution becomes 3x1x1 (temporal); with
    '3x3x3' the middle one becomes 3x3x3. Without ``inflate`` the block is purely spatial (1x1x1, 1x3x3, 1x1x1).

    Args:
        inplanes (int): input channels.
        planes (int): bottleneck channels; the block outputs ``planes * 4``.
        spatial_stride (int): stride over H and W.
        temporal_stride (int): stride over T.
        dilation (int): spatial dilation of the middle convolution.
        downsample (nn.Module, optional): projection of the identity branch.
        style (str): 'pytorch' puts the strides in the middle convolution, 'caffe' in the first one.
        inflate (bool): whether the block has a temporal kernel.
        inflate_style (str): '3x1x1' or '3x3x3'.
        conv_cfg, norm_cfg, act_cfg (dict): layer configs for ``ConvModule``.
        with_cp (bool): trade compute for memory with gradient checkpointing.

    Shapes:
        x (Tensor): [N, inplanes, T, H, W] -> [N, planes * 4, T / temporal_stride, H / spatial_stride, W / ...].
    """
    expansion = 4

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 spatial_stride: int = 1,
                 temporal_stride: int = 1,
                 dilation: int = 1,
                 downsample: Optional[nn.Module] = None,
                 style: str = 'pytorch',
                 inflate: bool = True,
                 inflate_style: str = '3x1x1',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None,
                 with_cp: bool = False):
        super().__init__()
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"Bottleneck3d style={style!r}: use 'pytorch' or 'caffe'")
        if inflate_style not in ('3x1x1', '3x3x3'):
            raise ValueError(f"Bottleneck3d inflate_style={inflate_style!r}: use '3x1x1' or '3x3x3'")
        conv_cfg = conv_cfg or dict(type='Conv3d')
        norm_cfg = norm_cfg or dict(type='BN3d')
        act_cfg = act_cfg or dict(type='ReLU')
        self.inplanes = inplanes
        self.planes = planes
        self.with_cp = with_cp

        if style == 'pytorch':
            stride1, stride2 = (1, 1, 1), (temporal_stride, spatial_stride, spatial_stride)
        else:
            stride1, stride2 = (temporal_stride, spatial_stride, spatial_stride), (1, 1, 1)
        if inflate and inflate_style == '3x1x1':
            kernel1, padding1 = (3, 1, 1), (1, 0, 0)
            kernel2, padding2 = (1, 3, 3), (0, dilation, dilation)
        elif inflate:
            kernel1, padding1 = (1, 1, 1), (0, 0, 0)
            kernel2, padding2 = (3, 3, 3), (1, dilation, dilation)
        else:
            kernel1, padding1 = (1, 1, 1), (0, 0, 0)
            kernel2, padding2 = (1, 3, 3), (0, dilation, dilation)

        self.conv1 = ConvModule(
            inplanes, planes, kernel1, stride=stride1, padding=padding1, bias=False, conv_cfg=conv_cfg,
            norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvModule(
            planes, planes, kernel2, stride=stride2, padding=padding2, dilation=(1, dilation, dilation), bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv3 = ConvModule(
            planes, planes * self.expansion, 1, bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
        self.downsample = downsample
        self.relu = build_activation_layer(act_cfg)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3(self.conv2(self.conv1(x)))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


def _read_checkpoint(path: str, logger: logging.Logger) -> dict:
    """Read a checkpoint file on the CPU through the project's safe loader (``weights_only``; full unpickling only
    with the explicit opt-in of `pyskl.utils.checkpoint.set_unsafe_load`)."""
    from ...utils.checkpoint import get_state_dict, load_checkpoint_file
    try:
        ckpt = load_checkpoint_file(path)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f'pretrained checkpoint {path!r} does not exist; fix the `pretrained` path') from exc
    return get_state_dict(ckpt, path)


def load_pretrained_weights(module: nn.Module, path: str, prefix: str = 'backbone.',
                            logger: Optional[logging.Logger] = None) -> Tuple[list, list]:
    """Load a checkpoint into ``module`` leniently and report what did not match.

    The checkpoint may be a bare state_dict or an mmcv checkpoint (``{'state_dict': ..., 'meta': ...}``).
    A ``module.`` prefix (from data-parallel wrappers) is removed. If some keys start with ``prefix`` (a whole
    recognizer checkpoint), only those are used, with the prefix removed. Entries whose shape differs from
    the module's are skipped and reported.

    Args:
        module (nn.Module): the module to fill.
        path (str): local checkpoint path.
        prefix (str): prefix of the module's entries inside a whole-model checkpoint.
        logger (logging.Logger, optional): where to report; defaults to the package logger.

    Returns:
        tuple[list, list]: the missing keys and the unexpected (or shape-mismatched) keys.
    """
    logger = logger or get_root_logger()
    state = _read_checkpoint(path, logger)
    state = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state.items())
    if prefix and any(k.startswith(prefix) for k in state):
        ignored = sum(not k.startswith(prefix) for k in state)
        if ignored:
            logger.info(f'{path}: using the {prefix!r} entries, ignoring {ignored} others')
        state = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))

    own = module.state_dict()
    mismatched = [k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    for key in mismatched:
        logger.warning(f'{path}: {key} has shape {tuple(state[key].shape)} in the checkpoint but '
                       f'{tuple(own[key].shape)} in the model; it keeps its initial value')
        del state[key]
    result = module.load_state_dict(state, strict=False)
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys) + mismatched
    if missing:
        logger.warning(f'{path}: missing keys in the checkpoint: {", ".join(missing)}')
    if result.unexpected_keys:
        logger.warning(f'{path}: unexpected keys in the checkpoint: {", ".join(result.unexpected_keys)}')
    if not missing and not unexpected:
        logger.info(f'{path}: all {len(own)} entries loaded')
    return missing, unexpected


@BACKBONES.register_module()
class ResNet3d(nn.Module):
    """Inflated 3D ResNet backbone with pyskl's parameter names.

    Args:
        depth (int): 18, 34, 50, 101 or 152; picks the block type and the default ``stage_blocks``.
        pretrained (str, optional): local checkpoint loaded by ``init_weights`` (a ``backbone.`` prefix is
            stripped).
        stage_blocks (tuple[int], optional): blocks per stage; defaults to the depth's layout.
        pretrained2d (bool): inflating 2D ImageNet weights is not supported; must stay False.
        in_channels (int): input channels (17 for COCO keypoint heatmaps).
        num_stages (int): number of residual stages (1 to 4).
        base_channels (int): channels of the stem; stage i has ``base_channels * 2**i`` bottleneck channels.
        out_indices (tuple[int]): stages whose outputs are returned.
        spatial_strides, temporal_strides, dilations (tuple[int]): per stage.
        conv1_kernel (tuple[int]): kernel of the stem convolution (T, H, W).
        conv1_stride (tuple[int]): (temporal, spatial) stride of the stem convolution.
        pool1_stride (tuple[int]): (temporal, spatial) stride of the 1x3x3 max pooling after the stem.
        conv1_stride_t, conv1_stride_s, pool1_stride_t, pool1_stride_s (int, optional): mmaction2-style
            overrides of the pairs above.
        with_pool2 (bool): halve T with a max pooling after the first stage.
        style (str): 'pytorch' or 'caffe'.
        frozen_stages (int): stages to freeze (-1: none, 0: the stem, i: the stem and stages 1..i).
        inflate (tuple[int]): per stage (or per block) whether blocks have temporal kernels.
        inflate_style (str): '3x1x1' or '3x3x3'.
        conv_cfg, norm_cfg, act_cfg (dict): layer configs.
        norm_eval (bool): keep BN layers in eval mode while training.
        with_cp (bool): gradient checkpointing in the blocks.
        zero_init_residual (bool): start the last BN of every block at zero.
        lateral (bool): SlowFast lateral connections are not supported; must stay False.

    Shapes:
        x (Tensor): [N, in_channels, T, H, W]
        output (Tensor): [N, C_out, T', H', W'] (a tuple of such tensors when ``out_indices`` has several
        entries), with ``C_out = base_channels * 2**stage * block.expansion``.
    """

    arch_settings = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int = 50,
                 pretrained: Optional[str] = None,
                 stage_blocks: Optional[Sequence] = None,
                 pretrained2d: bool = False,
                 in_channels: int = 3,
                 num_stages: int = 4,
                 base_channels: int = 64,
                 out_indices: Sequence = (3, ),
                 spatial_strides: Sequence = (1, 2, 2, 2),
                 temporal_strides: Sequence = (1, 1, 1, 1),
                 dilations: Sequence = (1, 1, 1, 1),
                 conv1_kernel: Sequence = (3, 7, 7),
                 conv1_stride: IntOrPair = (1, 2),
                 pool1_stride: IntOrPair = (1, 2),
                 conv1_stride_t: Optional[int] = None,
                 conv1_stride_s: Optional[int] = None,
                 pool1_stride_t: Optional[int] = None,
                 pool1_stride_s: Optional[int] = None,
                 with_pool2: bool = False,
                 style: str = 'pytorch',
                 frozen_stages: int = -1,
                 inflate: Sequence = (1, 1, 1, 1),
                 inflate_style: str = '3x1x1',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 lateral: bool = False):
        super().__init__()
        if depth not in self.arch_settings:
            raise KeyError(f'ResNet3d depth={depth!r} is not supported; use one of {sorted(self.arch_settings)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'ResNet3d num_stages={num_stages}: use 1 to 4')
        if pretrained2d:
            raise NotImplementedError('ResNet3d pretrained2d=True (inflating 2D ImageNet weights) is not '
                                      'supported; give a 3D checkpoint in `pretrained` and pretrained2d=False')
        if lateral:
            raise NotImplementedError('ResNet3d lateral=True (SlowFast lateral connections) is not supported; '
                                      'remove `lateral` from the backbone config')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(f'ResNet3d pretrained must be a checkpoint path or None, got {pretrained!r}')
        self.depth = depth
        self.pretrained = pretrained
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.out_indices = tuple(out_indices)
        if not self.out_indices or max(self.out_indices) >= num_stages:
            raise ValueError(f'ResNet3d out_indices={out_indices!r} must name stages below num_stages={num_stages}')
        self.block, default_blocks = self.arch_settings[depth]
        if stage_blocks is None:
            stage_blocks = default_blocks[:num_stages]
        elif len(stage_blocks) != num_stages:
            raise ValueError(f'ResNet3d stage_blocks={tuple(stage_blocks)!r} has {len(stage_blocks)} entries but '
                             f'num_stages={num_stages}')
        self.stage_blocks = tuple(stage_blocks)
        self.spatial_strides = _as_tuple(spatial_strides, num_stages, 'spatial_strides')
        self.temporal_strides = _as_tuple(temporal_strides, num_stages, 'temporal_strides')
        self.dilations = _as_tuple(dilations, num_stages, 'dilations')
        self.stage_inflations = _as_tuple(inflate, num_stages, 'inflate')
        self.conv1_kernel = tuple(conv1_kernel)
        if len(self.conv1_kernel) != 3:
            raise ValueError(f'ResNet3d conv1_kernel={conv1_kernel!r}: give a (T, H, W) triple')
        stride_t, stride_s = _stride_pair(conv1_stride, 'conv1_stride')
        self.conv1_stride_t = stride_t if conv1_stride_t is None else conv1_stride_t
        self.conv1_stride_s = stride_s if conv1_stride_s is None else conv1_stride_s
        stride_t, stride_s = _stride_pair(pool1_stride, 'pool1_stride')
        self.pool1_stride_t = stride_t if pool1_stride_t is None else pool1_stride_t
        self.pool1_stride_s = stride_s if pool1_stride_s is None else pool1_stride_s
        self.with_pool2 = with_pool2
        self.style = style
        self.frozen_stages = frozen_stages
        self.inflate_style = inflate_style
        self.conv_cfg = dict(type='Conv3d') if conv_cfg is None else dict(conv_cfg)
        self.norm_cfg = dict(type='BN3d', requires_grad=True) if norm_cfg is None else dict(norm_cfg)
        self.act_cfg = dict(type='ReLU', inplace=True) if act_cfg is None else dict(act_cfg)
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual

        self.conv1 = ConvModule(
            in_channels,
            base_channels,
            kernel_size=self.conv1_kernel,
            stride=(self.conv1_stride_t, self.conv1_stride_s, self.conv1_stride_s),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.maxpool = nn.MaxPool3d(
            kernel_size=(1, 3, 3), stride=(self.pool1_stride_t, self.pool1_stride_s, self.pool1_stride_s),
            padding=(0, 1, 1))
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1))

        self.res_layers = []
        inplanes = base_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            layer = self.make_res_layer(
                self.block, inplanes, planes, num_blocks, spatial_stride=self.spatial_strides[i],
                temporal_stride=self.temporal_strides[i], dilation=self.dilations[i], inflate=self.stage_inflations[i])
            inplanes = planes * self.block.expansion
            name = f'layer{i + 1}'
            self.add_module(name, layer)
            self.res_layers.append(name)
        self.feat_dim = self.block.expansion * base_channels * 2**(len(self.stage_blocks) - 1)
        self._freeze_stages()

    def make_res_layer(self, block: type, inplanes: int, planes: int, num_blocks: int, spatial_stride: int = 1,
                       temporal_stride: int = 1, dilation: int = 1, inflate: IntOrPair = 1) -> nn.Sequential:
        """One residual stage; its first block carries the strides and, when needed, a projection shortcut."""
        inflations = _as_tuple(inflate, num_blocks, 'inflate of a stage')
        downsample = None
        if spatial_stride != 1 or temporal_stride != 1 or inplanes != planes * block.expansion:
            downsample = ConvModule(
                inplanes, planes * block.expansion, kernel_size=1,
                stride=(temporal_stride, spatial_stride, spatial_stride), bias=False, conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg, act_cfg=None)
        blocks = []
        for j in range(num_blocks):
            first = j == 0
            blocks.append(
                block(
                    inplanes if first else planes * block.expansion,
                    planes,
                    spatial_stride=spatial_stride if first else 1,
                    temporal_stride=temporal_stride if first else 1,
                    dilation=dilation,
                    downsample=downsample if first else None,
                    style=self.style,
                    inflate=bool(inflations[j]),
                    inflate_style=self.inflate_style,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg,
                    with_cp=self.with_cp))
        return nn.Sequential(*blocks)

    def init_weights(self, pretrained: Optional[str] = None) -> None:
        """Kaiming-initialise convolutions, set BN to (1, 0), optionally zero the last BN of every block, then
        load ``pretrained`` (the argument, or the constructor's) when one is given."""
        if pretrained is not None:
            self.pretrained = pretrained
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, _BatchNorm):
                constant_init(m, 1)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck3d):
                    constant_init(m.conv3.bn, 0)
                elif isinstance(m, BasicBlock3d):
                    constant_init(m.conv2.bn, 0)
        if self.pretrained:
            logger = get_root_logger()
            logger.info(f'{type(self).__name__}: loading weights from {self.pretrained}')
            load_pretrained_weights(self, self.pretrained, prefix='backbone.', logger=logger)

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """x (Tensor): [N, in_channels, T, H, W] -> features of the stages in ``out_indices``."""
        x = self.maxpool(self.conv1(x))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _freeze_stages(self) -> None:
        """Put the frozen stem / stages in eval mode and stop their gradients."""
        frozen = []
        if self.frozen_stages >= 0:
            frozen.append(self.conv1)
        frozen += [getattr(self, f'layer{i}') for i in range(1, min(self.frozen_stages, self.num_stages) + 1)]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'ResNet3d':
        """Switch the mode, keeping frozen stages (and, with ``norm_eval``, every BN) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
