"""Geometric augmentations on keypoints (and frames when present): resize, crops and flip."""
from typing import Dict, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np

from ..registry import PIPELINES
from .pose_related import combine_quadruple


def _shift_keypoints(kp: np.ndarray, left: int, top: int) -> np.ndarray:
    """Move the crop origin to ``(left, top)``; zero coordinates (missing joints) stay zero."""
    kp = np.array(kp, dtype=np.float32)
    for axis, offset in ((0, left), (1, top)):
        coord = kp[..., axis]
        coord[coord != 0] -= offset
    return kp


def _crop_images(imgs, left: int, top: int, right: int, bottom: int):
    """Crop frames ``[H, W(, C)]`` (a list, or an array with a leading frame axis) to a box, padding with zeros."""

    def crop_one(img):
        height, width = img.shape[:2]
        out = np.zeros((bottom - top, right - left) + img.shape[2:], dtype=img.dtype)
        src_t, src_b = max(top, 0), min(bottom, height)
        src_l, src_r = max(left, 0), min(right, width)
        if src_t < src_b and src_l < src_r:
            out[src_t - top:src_b - top, src_l - left:src_r - left] = img[src_t:src_b, src_l:src_r]
        return out

    cropped = [crop_one(img) for img in imgs]
    return np.stack(cropped) if isinstance(imgs, np.ndarray) else cropped


def _apply_crop(results: dict, left: int, top: int, right: int, bottom: int) -> dict:
    """Crop ``results`` (keypoints, frames, img_shape, crop_quadruple) to the box ``[left, right) x [top, bottom)``."""
    img_h, img_w = results['img_shape']
    new_h, new_w = bottom - top, right - left
    inner = (left / img_w, top / img_h, new_w / img_w, new_h / img_h)
    results['crop_quadruple'] = combine_quadruple(results.get('crop_quadruple', (0., 0., 1., 1.)), inner)
    results['crop_bbox'] = np.array([left, top, right, bottom])
    results['img_shape'] = (new_h, new_w)
    if 'keypoint' in results:
        results['keypoint'] = _shift_keypoints(results['keypoint'], left, top)
    if 'imgs' in results:
        results['imgs'] = _crop_images(results['imgs'], left, top, right, bottom)
    return results


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f'{name} must be an int or a (w, h) pair, got {value!r}')
    return int(value[0]), int(value[1])


@PIPELINES.register_module()
class Resize:
    """Resize the frame: scales keypoints (and frames when present) and updates ``img_shape``.

    ``scale`` is either a float factor, or a ``(w, h)`` tuple. With ``keep_ratio`` the image is scaled by the largest
    factor that fits its long side into ``max(scale)`` and its short side into ``min(scale)``; a ``-1`` in the tuple
    means "no limit", so ``(-1, 64)`` scales the short side to 64. Without ``keep_ratio`` the image becomes exactly
    ``w x h``. New sizes round to the nearest integer.

    Reads ``img_shape`` ``(h, w)`` and ``keypoint`` ``[M, T, V, C]`` (x, y in the first two channels); sets
    ``img_shape``, ``keypoint``, ``keep_ratio`` and ``scale_factor`` (``[fx, fy]`` accumulated over resizes).

    Args:
        scale (float | tuple[int, int]): the target scale.
        keep_ratio (bool): keep the aspect ratio.
        interpolation (str): interpolation for frames (``imgs``), as in ``mmcv.imresize``.
        lazy (bool): accepted for config compatibility; keypoints are always resized at once.
    """

    def __init__(self,
                 scale: Union[float, Tuple[int, int]],
                 keep_ratio: bool = True,
                 interpolation: str = 'bilinear',
                 lazy: bool = False) -> None:
        if isinstance(scale, (float, np.floating)):
            if scale <= 0:
                raise ValueError(f'Resize: a scale factor must be positive, got {scale}')
            scale = float(scale)
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            scale = tuple(scale)
            if min(scale) == -1:
                scale = (np.inf, max(scale))
            elif min(scale) <= 0:
                raise ValueError(f'Resize: scale sizes must be positive (or -1 for no limit), got {scale}')
            if not keep_ratio and np.inf in scale:
                raise ValueError(f'Resize: keep_ratio=False needs an exact (w, h) scale, got {scale}')
        else:
            raise TypeError(f'Resize: scale must be a positive float or a (w, h) tuple, got {scale!r}')
        self.scale = scale
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.lazy = lazy

    def target_size(self, img_h: int, img_w: int) -> Tuple[int, int]:
        """The new ``(h, w)`` of an image of ``img_h x img_w``."""
        if isinstance(self.scale, float):
            factor = self.scale
        elif self.keep_ratio:
            factor = min(max(self.scale) / max(img_h, img_w), min(self.scale) / min(img_h, img_w))
        else:
            return int(self.scale[1]), int(self.scale[0])
        return int(img_h * float(factor) + 0.5), int(img_w * float(factor) + 0.5)

    def __call__(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        new_h, new_w = self.target_size(img_h, img_w)
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)
        results['scale_factor'] = results.get('scale_factor', np.ones(2, dtype=np.float32)) * factor
        results['img_shape'] = (new_h, new_w)
        results['keep_ratio'] = self.keep_ratio
        if 'keypoint' in results:
            kp = np.array(results['keypoint'], dtype=np.float32)
            kp[..., :2] *= factor
            results['keypoint'] = kp
        if 'imgs' in results:
            resized = [mmcv.imresize(img, (new_w, new_h), interpolation=self.interpolation) for img in results['imgs']]
            results['imgs'] = np.stack(resized) if isinstance(results['imgs'], np.ndarray) else resized
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation!r}, lazy={self.lazy})')


@PIPELINES.register_module()
class RandomResizedCrop:
    """Crop a random box of random area and aspect ratio (the size is left to a later `Resize`).

    Up to 10 candidate boxes are drawn with area ``uniform(area_range) * h * w`` and aspect ratio (w / h)
    log-uniform in ``aspect_ratio_range``; the first that fits the image is placed at a random position. If none
    fits, the centred square of the short side is used. Missing (zero) keypoints stay zero.

    Reads ``img_shape`` and ``keypoint`` ``[M, T, V, C]``; updates ``keypoint``, ``img_shape``, ``crop_bbox``
    (``[left, top, right, bottom]``) and ``crop_quadruple``. Uses numpy's global random generator.

    Args:
        area_range (tuple[float, float]): range of the crop area relative to the image.
        aspect_ratio_range (tuple[float, float]): range of the crop's width / height.
        lazy (bool): accepted for config compatibility.
    """

    def __init__(self,
                 area_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3 / 4, 4 / 3),
                 lazy: bool = False) -> None:
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'RandomResizedCrop: area_range must satisfy 0 < low <= high <= 1, got {area_range}')
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'RandomResizedCrop: aspect_ratio_range must satisfy 0 < low <= high, '
                             f'got {aspect_ratio_range}')
        self.area_range = tuple(area_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.lazy = lazy

    @staticmethod
    def get_crop_bbox(img_shape: Tuple[int, int],
                      area_range: Tuple[float, float],
                      aspect_ratio_range: Tuple[float, float],
                      max_attempts: int = 10) -> Tuple[int, int, int, int]:
        """A random ``(left, top, right, bottom)`` box inside an image of ``img_shape`` ``(h, w)``."""
        img_h, img_w = img_shape
        log_ratios = np.random.uniform(np.log(aspect_ratio_range[0]), np.log(aspect_ratio_range[1]),
                                       size=max_attempts)
        ratios = np.exp(log_ratios)
        areas = np.random.uniform(*area_range, size=max_attempts) * img_h * img_w
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
        for crop_w, crop_h in zip(widths, heights):
            if 0 < crop_h <= img_h and 0 < crop_w <= img_w:
                left = np.random.randint(0, img_w - crop_w + 1)
                top = np.random.randint(0, img_h - crop_h + 1)
                return int(left), int(top), int(left + crop_w), int(top + crop_h)
        side = min(img_h, img_w)
        left, top = (img_w - side) // 2, (img_h - side) // 2
        return left, top, left + side, top + side

    def __call__(self, results: dict) -> dict:
        left, top, right, bottom = self.get_crop_bbox(results['img_shape'], self.area_range, self.aspect_ratio_range)
        return _apply_crop(results, left, top, right, bottom)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(area_range={self.area_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, lazy={self.lazy})')


@PIPELINES.register_module()
class CenterCrop:
    """Crop the centre ``crop_size`` box; a box larger than the image extends beyond it.

    Reads ``img_shape`` and ``keypoint``; updates ``keypoint``, ``img_shape``, ``crop_bbox`` and
    ``crop_quadruple``. Missing (zero) keypoints stay zero.

    Args:
        crop_size (int | tuple[int, int]): the box size, ``s`` or ``(w, h)``.
        lazy (bool): accepted for config compatibility.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]], lazy: bool = False) -> None:
        self.crop_size = _pair(crop_size, 'CenterCrop: crop_size')
        if min(self.crop_size) <= 0:
            raise ValueError(f'CenterCrop: crop_size must be positive, got {crop_size!r}')
        self.lazy = lazy

    def __call__(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        crop_w, crop_h = self.crop_size
        left, top = (img_w - crop_w) // 2, (img_h - crop_h) // 2
        return _apply_crop(results, left, top, left + crop_w, top + crop_h)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size}, lazy={self.lazy})'


@PIPELINES.register_module()
class RandomCrop:
    """Crop a ``size x size`` box at a random position (at offset 0 on a side shorter than ``size``).

    Reads ``img_shape`` and ``keypoint``; updates ``keypoint``, ``img_shape``, ``crop_bbox`` and
    ``crop_quadruple``. Missing (zero) keypoints stay zero. Uses numpy's global random generator.

    Args:
        size (int): side of the square box.
        lazy (bool): accepted for config compatibility.
    """

    def __init__(self, size: int, lazy: bool = False) -> None:
        if not isinstance(size, (int, np.integer)) or size <= 0:
            raise TypeError(f'RandomCrop: size must be a positive int, got {size!r}')
        self.size = int(size)
        self.lazy = lazy

    def __call__(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        left = int(np.random.randint(0, max(img_w - self.size, 0) + 1))
        top = int(np.random.randint(0, max(img_h - self.size, 0) + 1))
        return _apply_crop(results, left, top, left + self.size, top + self.size)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size}, lazy={self.lazy})'


@PIPELINES.register_module()
class Flip:
    """Mirror the frame with probability ``flip_ratio``.

    A horizontal flip maps every non-zero x to ``width - x`` (zero marks a missing joint and stays zero) and
    swaps each ``left_kp[i]`` joint with ``right_kp[i]`` in ``keypoint`` ``[M, T, V, C]`` and ``keypoint_score``
    ``[M, T, V]``. A vertical flip maps non-zero y to ``height - y`` and swaps nothing. ``flip_label_map`` renames
    labels of flipped samples (e.g. "turn left" -> "turn right"). Frames in ``imgs`` are mirrored as well.

    Sets ``flip`` (whether it flipped) and ``flip_direction``. Uses numpy's global random generator.

    Args:
        flip_ratio (float): probability of flipping.
        direction (str): ``'horizontal'`` or ``'vertical'``.
        flip_label_map (dict[int, int], optional): label renaming for flipped samples.
        left_kp (Sequence[int], optional): joints on the left side.
        right_kp (Sequence[int], optional): their right-side counterparts.
        lazy (bool): accepted for config compatibility.
    """

    def __init__(self,
                 flip_ratio: float = 0.5,
                 direction: str = 'horizontal',
                 flip_label_map: Optional[Dict[int, int]] = None,
                 left_kp: Optional[Sequence[int]] = None,
                 right_kp: Optional[Sequence[int]] = None,
                 lazy: bool = False) -> None:
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f'Flip: direction must be "horizontal" or "vertical", got {direction!r}')
        if (left_kp is None) != (right_kp is None) or (left_kp is not None and len(left_kp) != len(right_kp)):
            raise ValueError(f'Flip: left_kp and right_kp must both be given with the same length, '
                             f'got {left_kp!r} and {right_kp!r}')
        if isinstance(flip_ratio, bool) or not isinstance(flip_ratio, (int, float)) or not 0 <= flip_ratio <= 1:
            raise ValueError(f'Flip: flip_ratio is a probability in [0, 1], got {flip_ratio!r}')
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map
        self.left_kp = None if left_kp is None else list(left_kp)
        self.right_kp = None if right_kp is None else list(right_kp)
        self.lazy = lazy

    def joint_order(self, num_joints: int) -> np.ndarray:
        """The joint permutation of a horizontal flip."""
        order = np.arange(num_joints)
        if self.left_kp is not None:
            if max(self.left_kp + self.right_kp) >= num_joints:
                raise ValueError(f'Flip: left_kp / right_kp name joint {max(self.left_kp + self.right_kp)} '
                                 f'but the keypoints have only {num_joints} joints; fix left_kp / right_kp')
            order[self.left_kp] = self.right_kp
            order[self.right_kp] = self.left_kp
        return order

    def __call__(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.flip_ratio)
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if not flip:
            return results
        if self.flip_label_map is not None and 'label' in results:
            results['label'] = self.flip_label_map.get(results['label'], results['label'])
        img_h, img_w = results['img_shape']
        axis, extent = (0, img_w) if self.direction == 'horizontal' else (1, img_h)
        if 'keypoint' in results:
            kp = np.array(results['keypoint'], dtype=np.float32)
            coord = kp[..., axis]
            coord[coord != 0] = extent - coord[coord != 0]
            if self.direction == 'horizontal':
                order = self.joint_order(kp.shape[2])
                kp = kp[:, :, order]
                if 'keypoint_score' in results:
                    results['keypoint_score'] = np.asarray(results['keypoint_score'])[:, :, order]
            results['keypoint'] = kp
        if 'imgs' in results:
            img_axis = 1 if self.direction == 'horizontal' else 0
            if isinstance(results['imgs'], np.ndarray):
                results['imgs'] = np.flip(results['imgs'], axis=img_axis + 1).copy()
            else:
                results['imgs'] = [np.flip(img, axis=img_axis).copy() for img in results['imgs']]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(flip_ratio={self.flip_ratio}, direction={self.direction!r}, '
                f'flip_label_map={self.flip_label_map}, left_kp={self.left_kp}, right_kp={self.right_kp})')
