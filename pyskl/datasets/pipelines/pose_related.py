"""Keypoint steps: `PoseDecode` (select the sampled frames) and `PoseCompact` (crop to the people)."""
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ..registry import PIPELINES


def combine_quadruple(outer: Sequence[float], inner: Sequence[float]) -> Tuple[float, float, float, float]:
    """Compose two crops given as relative ``(x, y, w, h)``: ``inner`` is relative to the region ``outer``."""
    return (outer[0] + outer[2] * inner[0], outer[1] + outer[3] * inner[1], outer[2] * inner[2],
            outer[3] * inner[3])


@PIPELINES.register_module()
class PoseDecode:
    """Keep the sampled frames of the keypoints.

    Selects ``frame_inds`` (default: every frame, ``arange(total_frames)``) along the frame axis of
    ``keypoint`` ``[M, T, V, C]`` and, when present, ``keypoint_score`` ``[M, T, V]``; afterwards
    ``keypoint`` is ``[M, len(frame_inds), V, C]`` float32. ``results['offset']`` (default 0) is added to the
    indices.
    """

    def __call__(self, results: dict) -> dict:
        if 'frame_inds' not in results:
            if 'total_frames' not in results:
                raise KeyError(f'PoseDecode: sample {results.get("frame_dir", "?")!r} has neither "frame_inds" '
                               f'nor "total_frames"; put a sampling step (UniformSampleFrames) before PoseDecode')
            results['frame_inds'] = np.arange(results['total_frames'])
        frame_inds = np.asarray(results['frame_inds'])
        if frame_inds.ndim != 1:
            frame_inds = frame_inds.reshape(-1)
        results['frame_inds'] = frame_inds
        frame_inds = frame_inds + results.get('offset', 0)
        for key in ('keypoint', 'keypoint_score'):
            if key in results:
                value = results[key]
                if frame_inds.size and (frame_inds.max() >= value.shape[1] or frame_inds.min() < -value.shape[1]):
                    raise IndexError(f'PoseDecode: sample {results.get("frame_dir", "?")!r}: frame index '
                                     f'{int(frame_inds.max())} is out of range for "{key}" of shape {value.shape} '
                                     f'(frames on axis 1); check total_frames in the annotation')
                results[key] = value[:, frame_inds].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@PIPELINES.register_module()
class PoseCompact:
    """Crop the frame to the box that holds every (non-zero) keypoint of the clip.

    The tight box around all non-zero keypoints is enlarged by ``padding`` (relative to its size), then grown to
    the height / width ratio ``hw_ratio``; unless ``allow_imgpad`` it is clipped to the image. Zero keypoints
    (missing joints) stay zero, the others are shifted into the box. Nothing happens when the box is smaller than
    ``threshold`` pixels in width or height.

    Reads ``keypoint`` ``[M, T, V, C]`` and ``img_shape`` ``(h, w)``; updates ``keypoint``, ``img_shape`` and
    ``crop_quadruple`` (the crop relative to the original frame: ``(x, y, w, h)`` as fractions).

    Args:
        padding (float): relative margin added around the tight box.
        threshold (int): minimum box size in pixels for the crop to happen.
        hw_ratio (float | tuple[float, float], optional): the box is enlarged so that
            ``h >= hw_ratio[0] * w`` and ``w >= h / hw_ratio[1]``; a number means the same for both.
        allow_imgpad (bool): let the box extend beyond the image.
    """

    def __init__(self,
                 padding: float = 0.25,
                 threshold: int = 10,
                 hw_ratio: Optional[Union[float, Tuple[float, float]]] = None,
                 allow_imgpad: bool = True) -> None:
        self.padding = padding
        self.threshold = threshold
        if hw_ratio is not None:
            if isinstance(hw_ratio, (int, float)):
                hw_ratio = (hw_ratio, hw_ratio)
            hw_ratio = tuple(float(r) for r in hw_ratio)
            if len(hw_ratio) != 2 or min(hw_ratio) <= 0:
                raise ValueError(f'PoseCompact: hw_ratio must be a positive number or pair, got {hw_ratio!r}')
        self.hw_ratio = hw_ratio
        self.allow_imgpad = allow_imgpad

    def __call__(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        kp = np.array(results['keypoint'], dtype=np.float32)
        kp[np.isnan(kp)] = 0.
        kp_x = kp[..., 0]
        kp_y = kp[..., 1]
        valid_x = kp_x[kp_x != 0]
        valid_y = kp_y[kp_y != 0]
        if valid_x.size == 0 or valid_y.size == 0:
            results['keypoint'] = kp
            return results
        min_x, max_x = valid_x.min(), valid_x.max()
        min_y, max_y = valid_y.min(), valid_y.max()
        # Sizes and centres in float32 first, then float64, as the reference implementation computes them.
        span_x, span_y = float(max_x - min_x), float(max_y - min_y)
        if span_x < self.threshold or span_y < self.threshold:
            results['keypoint'] = kp
            return results
        center_x, center_y = float(max_x + min_x) / 2, float(max_y + min_y) / 2
        half_w = span_x / 2 * (1 + self.padding)
        half_h = span_y / 2 * (1 + self.padding)
        if self.hw_ratio is not None:
            half_h = max(self.hw_ratio[0] * half_w, half_h)
            half_w = max(1 / self.hw_ratio[1] * half_h, half_w)
        left, right = center_x - half_w, center_x + half_w
        top, bottom = center_y - half_h, center_y + half_h
        if self.allow_imgpad:
            left, top, right, bottom = int(left), int(top), int(right), int(bottom)
        else:
            left, top = int(max(0, left)), int(max(0, top))
            right, bottom = int(min(img_w, right)), int(min(img_h, bottom))
        kp_x[kp_x != 0] -= left
        kp_y[kp_y != 0] -= top
        results['keypoint'] = kp
        results['img_shape'] = (bottom - top, right - left)
        inner = (left / img_w, top / img_h, (right - left) / img_w, (bottom - top) / img_h)
        results['crop_quadruple'] = combine_quadruple(results.get('crop_quadruple', (0., 0., 1., 1.)), inner)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(padding={self.padding}, threshold={self.threshold}, '
                f'hw_ratio={self.hw_ratio}, allow_imgpad={self.allow_imgpad})')
