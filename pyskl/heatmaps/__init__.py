"""The heatmap engine: keypoints to pose heatmap volumes, shared by the data pipeline and the models.

pyskl's pseudo heatmaps draw every frame, person and joint as ``value * exp(-d^2 / (2 sigma^2))`` inside the
window ``[int(mu - 3 sigma), int(mu + 3 sigma) + 1)`` clipped to the image, combined by maximum, skipping points
whose value is below 1e-3; limbs use the distance to the segment and the smaller value of their two joints.

- `layout`: the COCO-17 layout, the threshold and `HeatmapSpec` (the arguments, checked, and the channel layout);
- `numpy_engine`: `draw_heatmaps`, one clip on the CPU (what the ``GeneratePoseTarget`` pipeline step runs);
- `torch_engine`: `draw_heatmap_volumes`, a batch of compact keypoint clips on any torch device (what the
  device-side ``HeatmapGenerator`` of the recognizers runs).

This package imports neither `pyskl.datasets` nor `pyskl.models`; both import it.
"""
from .layout import (
    COCO_LEFT_KP,
    COCO_LEFT_LIMB,
    COCO_RIGHT_KP,
    COCO_RIGHT_LIMB,
    COCO_SKELETONS,
    HEATMAP_EPS,
    HeatmapSpec,
    num_heatmap_channels,
)
from .numpy_engine import draw_heatmaps
from .torch_engine import KEYPOINT_INPUTS, batch_image_size, draw_heatmap_volumes

__all__ = [
    'COCO_SKELETONS', 'COCO_LEFT_KP', 'COCO_RIGHT_KP', 'COCO_LEFT_LIMB', 'COCO_RIGHT_LIMB', 'HEATMAP_EPS',
    'HeatmapSpec', 'num_heatmap_channels', 'draw_heatmaps', 'KEYPOINT_INPUTS', 'batch_image_size',
    'draw_heatmap_volumes'
]
