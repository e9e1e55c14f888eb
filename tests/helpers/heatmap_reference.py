"""The per-point heatmap algorithm of pyskl: the reference that the heatmap engines are checked against.

`draw_point` / `draw_limb` draw one Gaussian window into one ``[H, W]`` channel (the tests check their windows pixel
by pixel against the formulas); `draw_per_point` calls them once per frame, person, joint and limb, and
`reference_pose_target` appends the mirrored copy by flipping the finished volume, as pyskl does. The tests and
``benchmarks/heatmaps.py`` import it from here.
"""
from typing import Sequence, Tuple

import numpy as np

from pyskl.heatmaps import COCO_SKELETONS, HEATMAP_EPS, HeatmapSpec


def _window(low: float, high: float, sigma: float, size: int) -> Tuple[int, int]:
    """Pixel range ``[int(low - 3 sigma), int(high + 3 sigma) + 1)`` clipped to ``[0, size)``."""
    return max(int(low - 3 * sigma), 0), min(int(high + 3 * sigma) + 1, size)


def draw_point(arr: np.ndarray, x: float, y: float, value: float, sigma: float, eps: float = HEATMAP_EPS) -> None:
    """Draw one keypoint into ``arr`` ``[H, W]`` in place, combining with what is there by maximum.

    The pixel ``(i, j)`` gets ``value * exp(-((j - x)^2 + (i - y)^2) / (2 sigma^2))`` inside the window of
    ``3 sigma`` around the point (clipped to the image); nothing is drawn when ``value < eps``.
    """
    if value < eps:
        return
    height, width = arr.shape
    x, y = float(x), float(y)
    st_x, ed_x = _window(x, x, sigma, width)
    st_y, ed_y = _window(y, y, sigma, height)
    if st_x >= ed_x or st_y >= ed_y:
        return
    dx2 = (np.arange(st_x, ed_x, dtype=np.float32) - np.float32(x))**2
    dy2 = (np.arange(st_y, ed_y, dtype=np.float32) - np.float32(y))**2
    patch = np.exp(-(dx2[None, :] + dy2[:, None]) / 2 / sigma**2) * np.float32(value)
    region = arr[st_y:ed_y, st_x:ed_x]
    np.maximum(region, patch, out=region)


def draw_limb(arr: np.ndarray,
              start: Sequence[float],
              end: Sequence[float],
              start_value: float,
              end_value: float,
              sigma: float,
              eps: float = HEATMAP_EPS) -> None:
    """Draw one limb (the segment ``start -> end``, points ``(x, y)``) into ``arr`` ``[H, W]`` in place.

    The value of a pixel is ``min(start_value, end_value) * exp(-d^2 / (2 sigma^2))`` with ``d`` its distance to
    the segment (to the nearer end point beyond the ends), inside the box around both ends widened by
    ``3 sigma``; combined with ``arr`` by maximum. A limb shorter than one pixel is drawn as the point ``start``
    with ``start_value``. Nothing is drawn when ``min(start_value, end_value) < eps``.
    """
    value = min(start_value, end_value)
    if value < eps:
        return
    start = np.asarray(start, dtype=np.float32)[:2]
    end = np.asarray(end, dtype=np.float32)[:2]
    height, width = arr.shape
    st_x, ed_x = _window(float(min(start[0], end[0])), float(max(start[0], end[0])), sigma, width)
    st_y, ed_y = _window(float(min(start[1], end[1])), float(max(start[1], end[1])), sigma, height)
    if st_x >= ed_x or st_y >= ed_y:
        return
    d2_ab = (start[0] - end[0])**2 + (start[1] - end[1])**2
    if d2_ab < 1:
        draw_point(arr, start[0], start[1], start_value, sigma, eps)
        return
    x = np.arange(st_x, ed_x, dtype=np.float32)[None, :]
    y = np.arange(st_y, ed_y, dtype=np.float32)[:, None]
    d2_start = (x - start[0])**2 + (y - start[1])**2
    d2_end = (x - end[0])**2 + (y - end[1])**2
    # Position of the projection on the line, as a fraction of the segment (0 at start, 1 at end).
    coeff = (d2_start - d2_end + d2_ab) / 2. / d2_ab
    proj_x = start[0] + coeff * (end[0] - start[0])
    proj_y = start[1] + coeff * (end[1] - start[1])
    d2_line = (x - proj_x)**2 + (y - proj_y)**2
    d2 = np.where(coeff <= 0, d2_start, np.where(coeff >= 1, d2_end, d2_line))
    patch = np.exp(-d2 / 2. / sigma**2) * np.float32(value)
    region = arr[st_y:ed_y, st_x:ed_x]
    np.maximum(region, patch, out=region)


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
    target = HeatmapSpec(**kwargs)
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
