from .alignment import FrameTextAlignment
from .heatmap import KEYPOINT_INPUTS, HeatmapGenerator
from .momentum import FeatureQueue, MomentumCopy, distillation_targets

__all__ = ['HeatmapGenerator', 'KEYPOINT_INPUTS', 'FrameTextAlignment', 'MomentumCopy', 'FeatureQueue',
           'distillation_targets']
