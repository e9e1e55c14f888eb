from .augmentations import CenterCrop, Flip, RandomCrop, RandomResizedCrop, Resize
from .compose import Compose
from .decompress import DecompressPose
from .formatting import Collect, FormatShape, ToTensor, to_tensor
from .heatmap_related import GeneratePoseTarget
from .keypoint_formatting import FormatCompactKeypoints
from .pose_related import PoseCompact, PoseDecode
from .sampling import UniformSampleFrames

__all__ = [
    'Compose', 'DecompressPose', 'UniformSampleFrames', 'PoseDecode', 'PoseCompact', 'Resize', 'RandomResizedCrop',
    'CenterCrop', 'RandomCrop', 'Flip', 'GeneratePoseTarget', 'FormatCompactKeypoints', 'FormatShape', 'Collect',
    'ToTensor', 'to_tensor'
]
