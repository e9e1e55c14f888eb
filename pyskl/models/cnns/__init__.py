from .resnet3d import BasicBlock3d, Bottleneck3d, ResNet3d, load_pretrained_weights
from .resnet3d_slowonly import ResNet3dSlowOnly
from .visece_video import SlowOnlyFrameEncoder, Visece_Video, Visece_Video_PACL, resnet_out_channels

__all__ = [
    'BasicBlock3d', 'Bottleneck3d', 'ResNet3d', 'ResNet3dSlowOnly', 'load_pretrained_weights', 'SlowOnlyFrameEncoder',
    'Visece_Video', 'Visece_Video_PACL', 'resnet_out_channels'
]
