"""`GeneratePoseTarget`: draw keypoints (or limbs) of every frame as Gaussian heatmaps.

Two implementations of one algorithm live here:

- the per-point reference: `draw_point` / `draw_limb` draw one Gaussian window into one ``[H, W]`` channel (pyskl
  calls them for every frame, person, joint and limb);
- the vectorised one, `draw_heatmaps`, used by `GeneratePoseTarget`: the windows of all points (limbs) of a clip
  are evaluated at once as a stack of small patches ``[N, Ky, Kx]`` and combined into the volume with one
  unbuffered ``np.maximum.at`` per patch stack. It reproduces the window cut of the reference exactly (per-point
  window bounds with Python's truncating ``int()``; pixels of a patch outside its window are masked to 0) and its
  float32 arithmetic, so both agree to float rounding (and match pyskl's recorded outputs within 1e-5). Joints
  agree to about 1e-9; limbs to about 1e-6, because the reference squares the limb length of scalars with the C
  library's ``powf``, which is not always correctly rounded, where arrays are squared exactly.
"""
from typing import Optional, Sequence, Tuple

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
# Window bounds are computed on coordinates clipped to this magnitude (far outside any image), so that huge
# coordinates neither overflow the integer conversion nor change which pixels are drawn.
_COORD_LIMIT = 1e9
# Upper bound on the elements of one stack of patches (memory of the temporaries: a few times 4 bytes each).
_PATCH_CHUNK = 1 << 20


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


def _num_channels(num_joints: int, with_kp: bool, with_limb: bool, skeletons: Sequence[Tuple[int, int]]) -> int:
    return (num_joints if with_kp else 0) + (len(skeletons) if with_limb else 0)


def _window_bounds(low: np.ndarray, high: np.ndarray, sigma: float, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """`_window` for arrays: int64 ``start``, ``end`` of ``[int(low - 3 sigma), int(high + 3 sigma) + 1)``.

    Float64 arithmetic and truncation toward zero, as Python's ``int()`` does, then clipping to ``[0, size)``.
    """
    low = np.clip(low.astype(np.float64) - 3 * sigma, -_COORD_LIMIT, _COORD_LIMIT)
    high = np.clip(high.astype(np.float64) + 3 * sigma, -_COORD_LIMIT, _COORD_LIMIT)
    start = np.maximum(np.trunc(low), 0).astype(np.int64)
    end = np.minimum(np.trunc(high) + 1, size).astype(np.int64)
    return start, end


def _padded_grid(start: np.ndarray, end: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Pixels ``start[n] + k`` (float32 ``[N, K]``, ``K`` the widest window) and the mask of ``[start, end)``."""
    offsets = np.arange(int((end - start).max()))
    pixels = start[:, None] + offsets
    return pixels.astype(np.float32), pixels < end[:, None]


def _chunks(num_items: int, items_per_chunk: int):
    for first in range(0, num_items, max(items_per_chunk, 1)):
        yield slice(first, first + max(items_per_chunk, 1))


class _Canvas:
    """The output volume ``[copies * T, C, H, W]`` and where each drawn ``(frame, channel)`` goes.

    A patch of frame ``t`` and channel ``c`` goes to plane ``t * C + c``; with a mirror order it also goes,
    reversed along the width, to plane ``(T + t) * C + c'`` of the mirrored copy, where ``order[c'] = c``.
    """

    def __init__(self, num_frames: int, num_channels: int, height: int, width: int,
                 mirror_order: Optional[np.ndarray]) -> None:
        copies = 1 if mirror_order is None else 2
        self.volume = np.zeros((copies * num_frames, num_channels, height, width), dtype=np.float32)
        self.flat = self.volume.reshape(-1)
        self.num_frames, self.num_channels, self.height, self.width = num_frames, num_channels, height, width
        self.mirror_channel = None if mirror_order is None else np.argsort(mirror_order)

    def add(self, frames: np.ndarray, channels: np.ndarray, top: np.ndarray, left: np.ndarray,
            patch: np.ndarray) -> None:
        """Combine ``patch`` ``[N, Ky, Kx]`` by maximum into the pixels ``top[n] + i``, ``left[n] + j``.

        Entries of a patch outside its window must be 0: they may fall beyond the edge of the image (into the next
        row or plane), where the maximum with 0 changes nothing.
        """
        num_rows, num_cols = patch.shape[1:]
        grid = np.arange(num_rows)[:, None] * self.width + np.arange(num_cols)
        planes = frames * self.num_channels + channels
        self._scatter((planes * self.height + top) * self.width + left, grid, patch)
        if self.mirror_channel is not None:
            planes = (self.num_frames + frames) * self.num_channels + self.mirror_channel[channels]
            grid = np.arange(num_rows)[:, None] * self.width - np.arange(num_cols)
            self._scatter((planes * self.height + top) * self.width + self.width - 1 - left, grid, patch)

    def _scatter(self, corners: np.ndarray, grid: np.ndarray, patch: np.ndarray) -> None:
        keys = corners[:, None, None] + grid
        np.clip(keys, 0, self.flat.size - 1, out=keys)
        # unbuffered: several people may draw into the same pixel of a channel
        np.maximum.at(self.flat, keys.reshape(-1), patch.reshape(-1))


def _draw_points(canvas: _Canvas, frames: np.ndarray, channels: np.ndarray, x: np.ndarray, y: np.ndarray,
                 value: np.ndarray, sigma: float) -> None:
    """Draw the points ``(x[n], y[n])`` (float32) with ``value[n]`` into their planes, as `draw_point` does."""
    x0, x1 = _window_bounds(x, x, sigma, canvas.width)
    y0, y1 = _window_bounds(y, y, sigma, canvas.height)
    keep = (x0 < x1) & (y0 < y1)
    if not keep.all():
        frames, channels, x, y, value = frames[keep], channels[keep], x[keep], y[keep], value[keep]
        x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    if not len(x):
        return
    patch_size = int((x1 - x0).max()) * int((y1 - y0).max())
    for part in _chunks(len(x), _PATCH_CHUNK // patch_size):
        cols, inside_x = _padded_grid(x0[part], x1[part])
        rows, inside_y = _padded_grid(y0[part], y1[part])
        dx2 = (cols - x[part, None])**2
        dy2 = (rows - y[part, None])**2
        # outside the window: exp(-inf) = 0
        dx2[~inside_x] = np.inf
        dy2[~inside_y] = np.inf
        patch = np.exp(-(dx2[:, None, :] + dy2[:, :, None]) / 2 / sigma**2) * value[part, None, None]
        canvas.add(frames[part], channels[part], y0[part], x0[part], patch)


def _draw_segments(canvas: _Canvas, frames: np.ndarray, channels: np.ndarray, start: np.ndarray, end: np.ndarray,
                   value: np.ndarray, x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray,
                   sigma: float) -> None:
    """Draw limbs of length >= 1 pixel (``start``, ``end`` ``[N, 2]`` float32) in their windows, as `draw_limb`."""
    cols, inside_x = _padded_grid(x0, x1)
    rows, inside_y = _padded_grid(y0, y1)
    x = cols[:, None, :]
    y = rows[:, :, None]
    sx, sy = start[:, 0, None, None], start[:, 1, None, None]
    ex, ey = end[:, 0, None, None], end[:, 1, None, None]
    d2_ab = (sx - ex)**2 + (sy - ey)**2
    # squared distances to the end points: the sums of [N, 1, Kx] and [N, Ky, 1] terms, as in draw_limb
    d2_start = (x - sx)**2 + (y - sy)**2
    d2_end = (x - ex)**2 + (y - ey)**2
    coeff = (d2_start - d2_end + d2_ab) / 2. / d2_ab
    proj_x = sx + coeff * (ex - sx)
    proj_y = sy + coeff * (ey - sy)
    d2 = (x - proj_x)**2 + (y - proj_y)**2
    np.copyto(d2, d2_end, where=coeff >= 1)
    np.copyto(d2, d2_start, where=coeff <= 0)
    patch = np.exp(-d2 / 2. / sigma**2) * value[:, None, None]
    patch *= inside_y[:, :, None] & inside_x[:, None, :]
    canvas.add(frames, channels, y0, x0, patch)


def _draw_limbs(canvas: _Canvas, frames: np.ndarray, channels: np.ndarray, start: np.ndarray, end: np.ndarray,
                start_value: np.ndarray, end_value: np.ndarray, sigma: float, eps: float) -> None:
    """Draw the limbs ``start[n] -> end[n]`` (``[N, 2]`` float32) into their planes, as `draw_limb` does."""
    value = np.minimum(start_value, end_value)
    keep = value >= eps
    d2_ab = (start[:, 0] - end[:, 0])**2 + (start[:, 1] - end[:, 1])**2
    short = keep & (d2_ab < 1)
    # a limb shorter than one pixel is the point at its start, with the start's value
    _draw_points(canvas, frames[short], channels[short], start[short, 0], start[short, 1], start_value[short], sigma)
    keep &= ~short
    frames, channels, start, end, value = frames[keep], channels[keep], start[keep], end[keep], value[keep]
    x0, x1 = _window_bounds(np.minimum(start[:, 0], end[:, 0]), np.maximum(start[:, 0], end[:, 0]), sigma,
                            canvas.width)
    y0, y1 = _window_bounds(np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1]), sigma,
                            canvas.height)
    keep = (x0 < x1) & (y0 < y1)
    if not keep.any():
        return
    frames, channels, start, end, value = frames[keep], channels[keep], start[keep], end[keep], value[keep]
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    # Limb windows differ in size: group them by (height, width) rounded up to powers of two, so that padding
    # every patch of a group to the group's largest window wastes at most 4x.
    size_class = (np.ceil(np.log2(y1 - y0)).astype(np.int64) << 8) | np.ceil(np.log2(x1 - x0)).astype(np.int64)
    for group in np.unique(size_class):
        members = np.flatnonzero(size_class == group)
        patch_size = int((x1[members] - x0[members]).max()) * int((y1[members] - y0[members]).max())
        for part in _chunks(len(members), _PATCH_CHUNK // patch_size):
            index = members[part]
            _draw_segments(canvas, frames[index], channels[index], start[index], end[index], value[index],
                           x0[index], x1[index], y0[index], y1[index], sigma)


def draw_heatmaps(kps: np.ndarray,
                  values: np.ndarray,
                  height: int,
                  width: int,
                  sigma: float,
                  with_kp: bool = True,
                  with_limb: bool = False,
                  skeletons: Sequence[Tuple[int, int]] = COCO_SKELETONS,
                  mirror_order: Optional[Sequence[int]] = None,
                  eps: float = HEATMAP_EPS) -> np.ndarray:
    """Heatmap volume of a whole clip at once (the result of `draw_point` / `draw_limb` for every point and limb).

    Every point (limb) with ``value >= eps`` becomes one patch covering its window; all patches of the clip are
    evaluated together and combined into the channels by maximum. With ``mirror_order`` the mirrored copy
    (width reversed, channel ``c'`` of the copy showing channel ``mirror_order[c']``) is drawn at the same time,
    patch by patch, instead of being copied from the finished volume.

    Args:
        kps (ndarray): ``[M, T, V, 2]`` keypoints ``(x, y)`` in heatmap pixels.
        values (ndarray): ``[M, T, V]`` the value of every point (its score, or 1).
        height, width (int): heatmap size.
        sigma (float): Gaussian standard deviation in pixels.
        with_kp, with_limb, skeletons: the channels (joints, then limbs), as in `GeneratePoseTarget`.
        mirror_order (Sequence[int], optional): channel permutation of the mirrored copy.
        eps (float): points (limbs) with a smaller value are not drawn.

    Returns:
        ndarray: float32 ``[T, C, H, W]``, or ``[2T, C, H, W]`` with the mirrored copy.
    """
    kps = np.asarray(kps, dtype=np.float32)
    values = np.asarray(values, dtype=np.float32)
    num_people, num_frames, num_joints = values.shape
    num_channels = _num_channels(num_joints, with_kp, with_limb, skeletons)
    if mirror_order is not None:
        mirror_order = np.asarray(mirror_order, dtype=np.int64)
        if sorted(mirror_order.tolist()) != list(range(num_channels)):
            raise ValueError(f'draw_heatmaps: mirror_order {mirror_order.tolist()} is not a permutation of the '
                             f'{num_channels} channels')
    canvas = _Canvas(num_frames, num_channels, height, width, mirror_order)
    if with_kp:
        drawn = values >= eps
        _, frames, channels = np.nonzero(drawn)
        points = kps[drawn]
        _draw_points(canvas, frames, channels, points[:, 0], points[:, 1], values[drawn], sigma)
    if with_limb and len(skeletons):
        limbs = np.asarray(skeletons, dtype=np.int64)
        _, frames, channels = np.indices((num_people, num_frames, len(limbs))).reshape(3, -1)
        start = kps[:, :, limbs[:, 0]].reshape(-1, 2)
        end = kps[:, :, limbs[:, 1]].reshape(-1, 2)
        start_value = values[:, :, limbs[:, 0]].reshape(-1)
        end_value = values[:, :, limbs[:, 1]].reshape(-1)
        _draw_limbs(canvas, frames, channels + (num_joints if with_kp else 0), start, end, start_value, end_value,
                    sigma, eps)
    return canvas.volume


@PIPELINES.register_module()
class GeneratePoseTarget:
    """Turn keypoints into pseudo heatmaps, one channel per joint (``with_kp``) and/or per limb (``with_limb``).

    Every frame, person and joint is drawn as a Gaussian (see `draw_point`); limbs as Gaussians around the segment
    between two joints (see `draw_limb`). Channels hold the maximum over people. Values are the keypoint scores
    (1 when ``use_score`` is False); points scoring below 1e-3 are skipped. A whole clip is drawn at once by
    `draw_heatmaps`.

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

    def check_layout(self, num_joints: int) -> None:
        """Raise ValueError when the skeletons or the left / right lists name joints or limbs that do not exist."""
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

    def num_channels(self, num_joints: int) -> int:
        """Channels of the heatmaps of ``num_joints`` joints: joints (with_kp) then limbs (with_limb)."""
        return _num_channels(num_joints, self.with_kp, self.with_limb, self.skeletons)

    def heatmap_size(self, img_shape: Sequence[int]) -> Tuple[int, int]:
        """``(H', W')`` of the heatmaps of an image of ``img_shape`` ``(H, W)``: rounded ``scaling`` times it."""
        img_h, img_w = img_shape
        return int(img_h * self.scaling + 0.5), int(img_w * self.scaling + 0.5)

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
        key = 'heatmap_imgs' if 'imgs' in results else 'imgs'
        results[key] = heatmaps
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sigma={self.sigma}, use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, double={self.double}, '
                f'left_kp={self.left_kp}, right_kp={self.right_kp}, left_limb={self.left_limb}, '
                f'right_limb={self.right_limb}, scaling={self.scaling})')
