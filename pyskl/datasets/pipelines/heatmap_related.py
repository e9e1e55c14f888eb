"""`GeneratePoseTarget`: draw keypoints (or limbs) of every frame as Gaussian heatmaps."""
from typing import Sequence, Tuple

import numpy as np

from ..builder import PIPELINES

COCO_SKELETONS = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10), (5, 11),
                  (11, 13), (13, 15), (6, 12), (12, 14), (14, 16), (11, 12))
COCO_LEFT_KP = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT_KP = (2, 4, 6, 8, 10, 12, 14, 16)
COCO_LEFT_LIMB = (0, 2, 4, 5, 6, 10, 11, 12)
COCO_RIGHT_LIMB = (1, 3, 7, 8, 9, 13, 14, 15)

# Points (and limbs) whose value is below this are not drawn.
HEATMAP_EPS = 1e-3


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


@PIPELINES.register_module()
class GeneratePoseTarget:
    """Turn keypoints into pseudo heatmaps, one channel per joint (``with_kp``) and/or per limb (``with_limb``).

    Every frame, person and joint is drawn as a Gaussian (see `draw_point`); limbs as Gaussians around the segment
    between two joints (see `draw_limb`). Channels hold the maximum over people. Values are the keypoint scores
    (1 when ``use_score`` is False); points scoring below 1e-3 are skipped.

    Reads ``keypoint`` ``[M, T, V, 2]`` (pixels), ``keypoint_score`` ``[M, T, V]`` (optional, default 1) and
    ``img_shape`` ``(H, W)``. Writes ``imgs`` (or ``heatmap_imgs`` when ``imgs`` already holds frames):
    float32 ``[T, C, H', W']`` with ``C = V`` (keypoints) ``+ len(skeletons)`` (limbs) and
    ``H', W' = round(H * scaling), round(W * scaling)``. With ``double`` a mirrored copy (flipped along the width,
    left / right channels swapped) is appended: ``[2T, C, H', W']``, which `FormatShape` ('NCTHW_Heatmap') turns
    into ``[2 * num_clips, C, clip_len, H', W']``.

    Args:
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

    def __init__(self,
                 sigma: float = 0.6,
                 use_score: bool = True,
                 with_kp: bool = True,
                 with_limb: bool = False,
                 skeletons: Sequence[Tuple[int, int]] = COCO_SKELETONS,
                 double: bool = False,
                 left_kp: Sequence[int] = COCO_LEFT_KP,
                 right_kp: Sequence[int] = COCO_RIGHT_KP,
                 left_limb: Sequence[int] = COCO_LEFT_LIMB,
                 right_limb: Sequence[int] = COCO_RIGHT_LIMB,
                 scaling: float = 1.) -> None:
        if not (with_kp or with_limb):
            raise ValueError('GeneratePoseTarget: with_kp and with_limb are both False; set at least one of them')
        if sigma <= 0 or scaling <= 0:
            raise ValueError(f'GeneratePoseTarget: sigma and scaling must be positive, got {sigma} and {scaling}')
        if len(left_kp) != len(right_kp) or len(left_limb) != len(right_limb):
            raise ValueError('GeneratePoseTarget: left_kp / right_kp (and left_limb / right_limb) must have the same '
                             'lengths')
        self.sigma = sigma
        self.use_score = use_score
        self.with_kp = with_kp
        self.with_limb = with_limb
        self.skeletons = tuple(tuple(limb) for limb in skeletons)
        self.double = double
        self.left_kp = tuple(left_kp)
        self.right_kp = tuple(right_kp)
        self.left_limb = tuple(left_limb)
        self.right_limb = tuple(right_limb)
        self.scaling = scaling

    def _check(self, num_joints: int) -> None:
        if self.with_limb and self.skeletons and max(max(limb) for limb in self.skeletons) >= num_joints:
            raise ValueError(f'GeneratePoseTarget: skeletons name joints up to '
                             f'{max(max(limb) for limb in self.skeletons)} but the keypoints have {num_joints} '
                             f'joints; pass skeletons for this layout')
        if self.double and self.with_kp and self.left_kp and max(self.left_kp + self.right_kp) >= num_joints:
            raise ValueError(f'GeneratePoseTarget: left_kp / right_kp name joint {max(self.left_kp + self.right_kp)} '
                             f'but the keypoints have {num_joints} joints; pass left_kp / right_kp for this layout')
        if self.double and self.with_limb and self.left_limb and \
                max(self.left_limb + self.right_limb) >= len(self.skeletons):
            raise ValueError(f'GeneratePoseTarget: left_limb / right_limb name limb '
                             f'{max(self.left_limb + self.right_limb)} but skeletons has {len(self.skeletons)} '
                             f'limbs; pass left_limb / right_limb for these skeletons')

    def generate_frame(self, arr: np.ndarray, kps: np.ndarray, scores: np.ndarray) -> None:
        """Draw one frame in place: ``arr`` ``[C, H, W]``, ``kps`` ``[M, V, 2]``, ``scores`` ``[M, V]``."""
        num_people, num_joints = scores.shape
        channel = 0
        if self.with_kp:
            for joint in range(num_joints):
                for person in range(num_people):
                    draw_point(arr[joint], kps[person, joint, 0], kps[person, joint, 1], scores[person, joint],
                               self.sigma, self.eps)
            channel = num_joints
        if self.with_limb:
            for index, (a, b) in enumerate(self.skeletons):
                for person in range(num_people):
                    draw_limb(arr[channel + index], kps[person, a], kps[person, b], scores[person, a],
                              scores[person, b], self.sigma, self.eps)

    def generate(self, results: dict) -> np.ndarray:
        """The heatmaps of all frames, ``[T, C, H, W]`` float32 (without the mirrored copy)."""
        if 'keypoint' not in results:
            raise KeyError(f'GeneratePoseTarget: sample {results.get("frame_dir", "?")!r} has no "keypoint"; '
                           f'it needs keypoints [M, T, V, 2]')
        kps = np.array(results['keypoint'], dtype=np.float32)
        if kps.ndim != 4 or kps.shape[-1] < 2:
            raise ValueError(f'GeneratePoseTarget: sample {results.get("frame_dir", "?")!r} has keypoint shape '
                             f'{kps.shape} but expected [M, T, V, 2]')
        num_people, num_frames, num_joints = kps.shape[:3]
        self._check(num_joints)
        if 'keypoint_score' in results and self.use_score:
            scores = np.asarray(results['keypoint_score'], dtype=np.float32)
            if scores.shape != kps.shape[:3]:
                raise ValueError(f'GeneratePoseTarget: sample {results.get("frame_dir", "?")!r} has keypoint_score '
                                 f'shape {scores.shape} but keypoint shape {kps.shape}; they must agree on [M, T, V]')
        else:
            scores = np.ones(kps.shape[:3], dtype=np.float32)
        img_h, img_w = results['img_shape']
        img_h, img_w = int(img_h * self.scaling + 0.5), int(img_w * self.scaling + 0.5)
        kps = kps[..., :2] * np.float32(self.scaling)
        num_channels = (num_joints if self.with_kp else 0) + (len(self.skeletons) if self.with_limb else 0)
        heatmaps = np.zeros((num_frames, num_channels, img_h, img_w), dtype=np.float32)
        for frame in range(num_frames):
            self.generate_frame(heatmaps[frame], kps[:, frame], scores[:, frame])
        return heatmaps

    @staticmethod
    def _swap(size: int, left: Sequence[int], right: Sequence[int]) -> np.ndarray:
        order = np.arange(size)
        order[list(left)] = right
        order[list(right)] = left
        return order

    def mirror_order(self, num_joints: int) -> np.ndarray:
        """Channel permutation of the mirrored copy: left / right joints (and limbs) swapped."""
        parts = []
        if self.with_kp:
            parts.append(self._swap(num_joints, self.left_kp, self.right_kp))
        if self.with_limb:
            limb_order = self._swap(len(self.skeletons), self.left_limb, self.right_limb)
            parts.append(limb_order + (num_joints if self.with_kp else 0))
        return np.concatenate(parts)

    def __call__(self, results: dict) -> dict:
        heatmaps = self.generate(results)
        if self.double:
            order = self.mirror_order(results['keypoint'].shape[2])
            mirrored = heatmaps[:, order, :, ::-1]
            heatmaps = np.concatenate([heatmaps, mirrored])
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmaps
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sigma={self.sigma}, use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, double={self.double}, '
                f'left_kp={self.left_kp}, right_kp={self.right_kp}, left_limb={self.left_limb}, '
                f'right_limb={self.right_limb}, scaling={self.scaling})')
