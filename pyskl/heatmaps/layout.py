"""What a heatmap volume holds: the COCO-17 layout, the drawing threshold and `HeatmapSpec`.

`HeatmapSpec` holds the arguments of pyskl's ``GeneratePoseTarget`` (sigma, scores, joint and limb channels,
mirroring, scaling), checks them, and derives the channel layout and the size of the volume from them. The
pipeline step (`pyskl.datasets.pipelines.GeneratePoseTarget`, which extends it) and the device-side generator
(`pyskl.models.common.HeatmapGenerator`, which holds one) share it, so both draw the same volumes.
"""
from typing import Sequence, Tuple

import numpy as np

# COCO-17 limbs as joint pairs, and the joints (limbs) that trade places when a clip is mirrored.
COCO_SKELETONS = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10), (5, 11),
                  (11, 13), (13, 15), (6, 12), (12, 14), (14, 16), (11, 12))
COCO_LEFT_KP = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT_KP = (2, 4, 6, 8, 10, 12, 14, 16)
COCO_LEFT_LIMB = (0, 2, 4, 5, 6, 10, 11, 12)
COCO_RIGHT_LIMB = (1, 3, 7, 8, 9, 13, 14, 15)

# Points (and limbs) whose value is below this are not drawn.
HEATMAP_EPS = 1e-3


def num_heatmap_channels(num_joints: int, with_kp: bool, with_limb: bool,
                         skeletons: Sequence[Tuple[int, int]]) -> int:
    """Channels of a volume: ``num_joints`` joint channels (``with_kp``), then one per limb (``with_limb``)."""
    return (num_joints if with_kp else 0) + (len(skeletons) if with_limb else 0)


class HeatmapSpec:
    """The arguments of a heatmap volume (those of pyskl's ``GeneratePoseTarget``), checked, and their layout.

    Channels are the joints (``with_kp``) followed by the limbs of ``skeletons`` (``with_limb``); the volume of an
    image of ``img_shape`` ``(H, W)`` is ``round(H * scaling) x round(W * scaling)``; with ``double`` a mirrored
    copy (width reversed, left / right joints and limbs swapped) follows the original frames.

    Args:
        sigma (float): Gaussian standard deviation in pixels.
        use_score (bool): scale the Gaussians by the keypoint scores (else every point has value 1).
        with_kp (bool): draw one channel per joint.
        with_limb (bool): draw one channel per limb of ``skeletons`` (after the joint channels).
        skeletons (Sequence[tuple[int, int]]): the limbs as joint pairs (default: COCO-17).
        double (bool): append the mirrored copy.
        left_kp, right_kp (Sequence[int]): joint channels swapped by the mirroring.
        left_limb, right_limb (Sequence[int]): limb channels swapped by the mirroring.
        scaling (float): scale of the heatmaps relative to ``img_shape``.
    """

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
        name = type(self).__name__
        if not (with_kp or with_limb):
            raise ValueError(f'{name}: with_kp and with_limb are both False; set at least one of them')
        if sigma <= 0 or scaling <= 0:
            raise ValueError(f'{name}: sigma and scaling must be positive, got {sigma} and {scaling}')
        if len(left_kp) != len(right_kp) or len(left_limb) != len(right_limb):
            raise ValueError(f'{name}: left_kp / right_kp (and left_limb / right_limb) must have the same lengths')
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

    def check_layout(self, num_joints: int) -> None:
        """Raise ValueError when the skeletons or the left / right lists name joints or limbs that do not exist."""
        name = type(self).__name__
        if self.with_limb and self.skeletons and max(max(limb) for limb in self.skeletons) >= num_joints:
            raise ValueError(f'{name}: skeletons name joints up to {max(max(limb) for limb in self.skeletons)} but '
                             f'the keypoints have {num_joints} joints; pass skeletons for this layout')
        if self.double and self.with_kp and self.left_kp and max(self.left_kp + self.right_kp) >= num_joints:
            raise ValueError(f'{name}: left_kp / right_kp name joint {max(self.left_kp + self.right_kp)} but the '
                             f'keypoints have {num_joints} joints; pass left_kp / right_kp for this layout')
        if self.double and self.with_limb and self.left_limb and \
                max(self.left_limb + self.right_limb) >= len(self.skeletons):
            raise ValueError(f'{name}: left_limb / right_limb name limb {max(self.left_limb + self.right_limb)} but '
                             f'skeletons has {len(self.skeletons)} limbs; pass left_limb / right_limb for these '
                             f'skeletons')

    def num_channels(self, num_joints: int) -> int:
        """Channels of the heatmaps of ``num_joints`` joints: joints (with_kp) then limbs (with_limb)."""
        return num_heatmap_channels(num_joints, self.with_kp, self.with_limb, self.skeletons)

    def heatmap_size(self, img_shape: Sequence[int]) -> Tuple[int, int]:
        """``(H', W')`` of the heatmaps of an image of ``img_shape`` ``(H, W)``: rounded ``scaling`` times it."""
        img_h, img_w = img_shape
        return int(img_h * self.scaling + 0.5), int(img_w * self.scaling + 0.5)

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

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sigma={self.sigma}, use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, double={self.double}, '
                f'left_kp={self.left_kp}, right_kp={self.right_kp}, left_limb={self.left_limb}, '
                f'right_limb={self.right_limb}, scaling={self.scaling})')
