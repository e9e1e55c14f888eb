"""`GeneratePoseTarget`: draw keypoints (or limbs) of every frame as Gaussian heatmaps.

The step checks a sample's keypoints and hands them to the vectorised numpy engine
(`pyskl.heatmaps.numpy_engine.draw_heatmaps`); its arguments and channel layout are those of
`pyskl.heatmaps.HeatmapSpec`, which the device-side `HeatmapGenerator` of the models shares. The COCO-17 layout
and the engine stay importable from here under their old names.
"""
from typing import Tuple

import numpy as np

from ...heatmaps import (
    COCO_LEFT_KP,
    COCO_LEFT_LIMB,
    COCO_RIGHT_KP,
    COCO_RIGHT_LIMB,
    COCO_SKELETONS,
    HEATMAP_EPS,
    HeatmapSpec,
    draw_heatmaps,
)
from ..registry import PIPELINES

__all__ = ['GeneratePoseTarget', 'draw_heatmaps', 'COCO_SKELETONS', 'COCO_LEFT_KP', 'COCO_RIGHT_KP',
           'COCO_LEFT_LIMB', 'COCO_RIGHT_LIMB', 'HEATMAP_EPS']


@PIPELINES.register_module()
class GeneratePoseTarget(HeatmapSpec):
    """Turn keypoints into pseudo heatmaps, one channel per joint (``with_kp``) and/or per limb (``with_limb``).

    Every frame, person and joint is drawn as a Gaussian; limbs as Gaussians around the segment between two joints
    (see `pyskl.heatmaps`). Channels hold the maximum over people. Values are the keypoint scores (1 when
    ``use_score`` is False); points scoring below 1e-3 are skipped. A whole clip is drawn at once by
    `draw_heatmaps`.

    Reads ``keypoint`` ``[M, T, V, 2]`` (pixels), ``keypoint_score`` ``[M, T, V]`` (optional, default 1) and
    ``img_shape`` ``(H, W)``. Writes ``imgs`` (or ``heatmap_imgs`` when ``imgs`` already holds frames):
    float32 ``[T, C, H', W']`` with ``C = V`` (keypoints) ``+ len(skeletons)`` (limbs) and
    ``H', W' = round(H * scaling), round(W * scaling)``. With ``double`` a mirrored copy (flipped along the width,
    left / right channels swapped) is appended: ``[2T, C, H', W']``, which `FormatShape` ('NCTHW_Heatmap') turns
    into ``[2 * num_clips, C, clip_len, H', W']``.

    Args (those of `HeatmapSpec`):
        sigma (float): Gaussian standard deviation in pixels.
        use_score (bool): scale the Gaussians by the keypoint scores.
        with_kp (bool): draw one channel per joint.
        with_limb (bool): draw one channel per limb of ``skeletons`` (after the joint channels).
        skeletons (Sequence[tuple[int, int]]): the limbs as joint pairs (default: COCO-17).
        double (bool): append the mirrored copy.
        left_kp, right_kp (Sequence[int]): joint channels swapped by the mirroring.
        left_limb, right_limb (Sequence[int]): limb channels swapped by the mirroring.
        scaling (float): scale of the heatmaps relative to ``img_shape``.
    """

    eps = HEATMAP_EPS

    def inputs(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        """The checked, scaled keypoints ``[M, T, V, 2]`` and the point values ``[M, T, V]`` of a sample."""
        name = results.get('frame_dir', '?')
        if 'keypoint' not in results:
            raise KeyError(f'GeneratePoseTarget: sample {name!r} has no "keypoint"; it needs keypoints [M, T, V, 2]')
        kps = np.asarray(results['keypoint'], dtype=np.float32)
        if kps.ndim != 4 or kps.shape[-1] < 2:
            raise ValueError(f'GeneratePoseTarget: sample {name!r} has keypoint shape {kps.shape} but expected '
                             f'[M, T, V, 2]')
        self.check_layout(kps.shape[2])
        if 'keypoint_score' in results and self.use_score:
            values = np.asarray(results['keypoint_score'], dtype=np.float32)
            if values.shape != kps.shape[:3]:
                raise ValueError(f'GeneratePoseTarget: sample {name!r} has keypoint_score shape {values.shape} but '
                                 f'keypoint shape {kps.shape}; they must agree on [M, T, V]')
        else:
            values = np.ones(kps.shape[:3], dtype=np.float32)
        kps = kps[..., :2] * np.float32(self.scaling)
        if not np.isfinite(kps).all():
            raise ValueError(f'GeneratePoseTarget: sample {name!r} has non-finite keypoints; mark missing joints '
                             f'with score 0 instead')
        return kps, values

    def generate(self, results: dict) -> np.ndarray:
        """The heatmaps of all frames, ``[T, C, H, W]`` float32, with the mirrored copy ``[2T, ...]`` if ``double``."""
        kps, values = self.inputs(results)
        height, width = self.heatmap_size(results['img_shape'])
        mirror_order = self.mirror_order(kps.shape[2]) if self.double else None
        return draw_heatmaps(kps, values, height, width, self.sigma, self.with_kp, self.with_limb, self.skeletons,
                             mirror_order, self.eps)

    def __call__(self, results: dict) -> dict:
        heatmaps = self.generate(results)
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmaps
        return results
