"""The vectorised numpy heatmap engine: `draw_heatmaps` draws the heatmap volume of a whole clip at once.

The algorithm is pyskl's (one Gaussian window per frame, person and joint or limb, see `pyskl.heatmaps`), which
pyskl draws point by point; the per-point form lives with the tests (``tests/helpers/heatmap_reference.py``) as
the reference this engine is checked against. Here the windows of all points (limbs) of a clip are evaluated at
once as a stack of small patches ``[N, Ky, Kx]`` and combined into the volume with one unbuffered
``np.maximum.at`` per patch stack. It reproduces the window cut of the reference exactly (per-point window bounds
with Python's truncating ``int()``; pixels of a patch outside its window are masked to 0) and its float32
arithmetic, so both agree to float rounding (and match pyskl's recorded outputs within 1e-5). Joints agree to about
1e-9; limbs to about 1e-6, because the reference squares the limb length of scalars with the C library's ``powf``,
which is not always correctly rounded, where arrays are squared exactly.

numpy has no scatter-maximum over overlapping windows of varying size, so the patch bookkeeping is written here.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .layout import COCO_SKELETONS, HEATMAP_EPS, num_heatmap_channels

# Window bounds are computed on coordinates clipped to this magnitude (far outside any image), so that huge
# coordinates neither overflow the integer conversion nor change which pixels are drawn.
_COORD_LIMIT = 1e9
# Upper bound on the elements of one stack of patches (memory of the temporaries: a few times 4 bytes each).
_PATCH_CHUNK = 1 << 20


def _window_bounds(low: np.ndarray, high: np.ndarray, sigma: float, size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Window bounds: int64 ``start``, ``end`` of ``[int(low - 3 sigma), int(high + 3 sigma) + 1)`` per entry.

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
    """Draw the points ``(x[n], y[n])`` (float32) with ``value[n]`` into their planes (one Gaussian window each)."""
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
    """Draw limbs of length >= 1 pixel (``start``, ``end`` ``[N, 2]`` float32) in their windows."""
    cols, inside_x = _padded_grid(x0, x1)
    rows, inside_y = _padded_grid(y0, y1)
    x = cols[:, None, :]
    y = rows[:, :, None]
    sx, sy = start[:, 0, None, None], start[:, 1, None, None]
    ex, ey = end[:, 0, None, None], end[:, 1, None, None]
    d2_ab = (sx - ex)**2 + (sy - ey)**2
    # squared distances to the end points: the sums of [N, 1, Kx] and [N, Ky, 1] terms, as the reference orders them
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
    """Draw the limbs ``start[n] -> end[n]`` (``[N, 2]`` float32) into their planes (one window around each segment)."""
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
    """Heatmap volume of a whole clip at once: every point and limb drawn as its Gaussian window, by maximum.

    Every point (limb) with ``value >= eps`` becomes one patch covering its window; all patches of the clip are
    evaluated together and combined into the channels by maximum. With ``mirror_order`` the mirrored copy
    (width reversed, channel ``c'`` of the copy showing channel ``mirror_order[c']``) is drawn at the same time,
    patch by patch, instead of being copied from the finished volume.

    Args:
        kps (ndarray): ``[M, T, V, 2]`` keypoints ``(x, y)`` in heatmap pixels.
        values (ndarray): ``[M, T, V]`` the value of every point (its score, or 1).
        height, width (int): heatmap size.
        sigma (float): Gaussian standard deviation in pixels.
        with_kp, with_limb, skeletons: the channels (joints, then limbs), as in `HeatmapSpec`.
        mirror_order (Sequence[int], optional): channel permutation of the mirrored copy.
        eps (float): points (limbs) with a smaller value are not drawn.

    Returns:
        ndarray: float32 ``[T, C, H, W]``, or ``[2T, C, H, W]`` with the mirrored copy.
    """
    kps = np.asarray(kps, dtype=np.float32)
    values = np.asarray(values, dtype=np.float32)
    num_people, num_frames, num_joints = values.shape
    num_channels = num_heatmap_channels(num_joints, with_kp, with_limb, skeletons)
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
