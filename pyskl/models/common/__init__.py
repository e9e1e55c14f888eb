from .alignment import FrameTextAlignment
from .distributed import all_gather_no_grad, all_gather_with_grad
from .heatmap import KEYPOINT_INPUTS, HeatmapGenerator
from .init import init_linear_layers
from .momentum import FeatureQueue, MomentumCopy, distillation_targets

__all__ = ['HeatmapGenerator', 'KEYPOINT_INPUTS', 'FrameTextAlignment', 'MomentumCopy', 'FeatureQueue',
           'distillation_targets', 'all_gather_with_grad', 'all_gather_no_grad', 'init_linear_layers']
