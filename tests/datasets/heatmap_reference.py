"""The plain per-point heatmap algorithm, the reference of the vectorised `GeneratePoseTarget` in the tests.

It calls `draw_point` / `draw_limb` (whose windows the tests check pixel by pixel against the formulas) once per
frame, person, joint and limb, and appends the mirrored copy by flipping the finished volume, as pyskl does.
"""
from typing import Sequence, Tuple

import numpy as np

from pyskl.datasets.pipelines import GeneratePoseTarget
from pyskl.datasets.pipelines.heatmap_related import COCO_SKELETONS, HEATMAP_EPS, draw_limb, draw_point


def draw_per_point(kps: np.ndarray,
                   values: np.ndarray,
                   height: int,
                   width: int,
                   sigma: float,
                   with_kp: bool = True,
                   with_limb: bool = False,
                   skeletons: Sequence[Tuple[int, int]] = COCO_SKELETONS) -> np.ndarray:
    """kps [M, T, V, 2] (heatmap pixels), values [M, T, V] -> float32 [T, C, height, width], one point at a time."""
    num_people, num_frames, num_joints = values.shape
    num_channels = (num_joints if with_kp else 0) + (len(skeletons) if with_limb else 0)
    heatmaps = np.zeros((num_frames, num_channels, height, width), dtype=np.float32)
    for frame in range(num_frames):
        channel = 0
        if with_kp:
            for joint in range(num_joints):
                for person in range(num_people):
                    draw_point(heatmaps[frame, joint], kps[person, frame, joint, 0], kps[person, frame, joint, 1],
                               values[person, frame, joint], sigma, HEATMAP_EPS)
            channel = num_joints
        if with_limb:
            for index, (a, b) in enumerate(skeletons):
                for person in range(num_people):
                    draw_limb(heatmaps[frame, channel + index], kps[person, frame, a], kps[person, frame, b],
                              values[person, frame, a], values[person, frame, b], sigma, HEATMAP_EPS)
    return heatmaps


def reference_pose_target(results: dict, **kwargs) -> np.ndarray:
    """What ``GeneratePoseTarget(**kwargs)(results)['imgs']`` must be: [T (x2 with double), C, H, W]."""
    target = GeneratePoseTarget(**kwargs)
    kps = np.asarray(results['keypoint'], np.float32)[..., :2] * np.float32(target.scaling)
    if 'keypoint_score' in results and target.use_score:
        values = np.asarray(results['keypoint_score'], np.float32)
    else:
        values = np.ones(kps.shape[:3], np.float32)
    height, width = target.heatmap_size(results['img_shape'])
    heatmaps = draw_per_point(kps, values, height, width, target.sigma, target.with_kp, target.with_limb,
                              target.skeletons)
    if target.double:
        order = target.mirror_order(kps.shape[2])
        heatmaps = np.concatenate([heatmaps, heatmaps[:, order, :, ::-1]])
    return heatmaps
