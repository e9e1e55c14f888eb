"""The torch heatmap engine: the volumes of a batch of keypoint clips, drawn on the keypoints' device.

The algorithm is the one of the numpy engine (`pyskl.heatmaps.numpy_engine`): a Gaussian
``value * exp(-d^2 / (2 sigma^2))`` inside the window ``[int(mu - 3 sigma), int(mu + 3 sigma) + 1)`` of every point
(for limbs: the box around both ends, ``d`` the distance to the segment, a limb shorter than one pixel drawn as
the point at its start), channels combined by maximum over people, points with ``value < 1e-3`` skipped. Here
every channel is evaluated densely over the image with the window as a mask, which suits GPUs: joints as an
outer product of a column profile ``[W]`` and a row profile ``[H]`` per point, limbs over the full grid. Window
bounds are computed in float64 with truncation toward zero, like Python's ``int()``, so the cut is the same
pixel for pixel; values agree with the numpy engine to float rounding (1e-6 in float32).

The inputs are the compact keypoints that ``FormatCompactKeypoints`` writes (`KEYPOINT_INPUTS`); the model side
(`pyskl.models.common.HeatmapGenerator`) wraps `draw_heatmap_volumes` as a module.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .layout import HEATMAP_EPS, HeatmapSpec

# The batch keys that ``FormatCompactKeypoints`` hands to the model in place of ``imgs``.
KEYPOINT_INPUTS = ('keypoint', 'keypoint_score', 'img_shape')


def _bounds_device(device: torch.device) -> torch.device:
    """Where float64 window bounds can be computed (MPS has no float64)."""
    return torch.device('cpu') if device.type == 'mps' else device


def _window_mask(low: torch.Tensor, high: torch.Tensor, sigma: float, size: int) -> torch.Tensor:
    """Boolean ``[..., size]``: pixel ``j`` lies in ``[int(low - 3 sigma), int(high + 3 sigma) + 1)``."""
    device = low.device
    bounds_device = _bounds_device(device)
    low = torch.trunc(low.to(bounds_device, torch.float64) - 3 * sigma)
    high = torch.trunc(high.to(bounds_device, torch.float64) + 3 * sigma)
    pixels = torch.arange(size, device=bounds_device, dtype=torch.float64)
    mask = (pixels >= low.unsqueeze(-1)) & (pixels <= high.unsqueeze(-1))
    return mask.to(device)


def batch_image_size(img_shape: Union[torch.Tensor, np.ndarray, Sequence[int]], batch: int) -> Tuple[int, int]:
    """``(H, W)`` from ``img_shape`` given as ``(H, W)`` or as one row per sample ``[B, 2]`` (all equal).

    A pair of per-sample tensors ``(H [B], W [B])`` (what collating tuples gives) is accepted too.
    """
    if isinstance(img_shape, torch.Tensor):
        shape = img_shape.detach().cpu()
    elif isinstance(img_shape, (list, tuple)) and img_shape and isinstance(img_shape[0], torch.Tensor):
        shape = torch.stack([side.detach().cpu().reshape(-1) for side in img_shape], dim=-1)
    else:
        shape = torch.as_tensor(np.asarray(img_shape))
    if shape.dim() == 1:
        shape = shape.unsqueeze(0)
    if shape.dim() != 2 or shape.shape[1] != 2 or shape.shape[0] not in (1, batch):
        raise ValueError(f'img_shape must be (H, W) or [B, 2] with B = {batch}, got shape {tuple(shape.shape)}')
    if (shape != shape[:1]).any():
        raise ValueError(f'the samples of a batch have different img_shape {sorted(set(map(tuple, shape.tolist())))}'
                         '; resize them to one size in the pipeline (e.g. Resize(scale=(64, 64), keep_ratio=False))')
    height, width = shape[0].tolist()
    return int(height), int(width)


def draw_heatmap_volumes(spec: HeatmapSpec,
                         keypoint: torch.Tensor,
                         keypoint_score: Optional[torch.Tensor],
                         img_shape: Union[torch.Tensor, Sequence[int]],
                         max_elements: int = 1 << 24) -> torch.Tensor:
    """The heatmap volumes of ``spec`` for a batch of clips, as ``GeneratePoseTarget -> FormatShape`` gives them.

    Args:
        spec (HeatmapSpec): what to draw.
        keypoint (Tensor): [B, num_clips, M, T, V, 2] (a third coordinate is ignored); absent people are padded
            with score 0 (and coordinates far outside the image).
        keypoint_score (Tensor, optional): [B, num_clips, M, T, V]; None means 1 everywhere.
        img_shape: (H, W), or [B, 2] with equal rows.
        max_elements (int): bound on the elements of one temporary (clips are drawn in chunks below it).

    Returns:
        Tensor: float32 [B, num_clips (x2 with double), C, T, H', W'] with ``C = spec.num_channels(V)`` and
        ``H', W' = spec.heatmap_size((H, W))``; with ``double`` the mirrored clips follow the originals.
    """
    if keypoint.dim() != 6 or keypoint.shape[-1] < 2:
        raise ValueError(f'the heatmap generator expects keypoint of shape [B, num_clips, M, T, V, 2], got '
                         f'{tuple(keypoint.shape)}; end the pipeline with FormatCompactKeypoints')
    batch, num_clips, _, num_frames, num_joints = keypoint.shape[:5]
    spec.check_layout(num_joints)
    kps = keypoint[..., :2].float() * spec.scaling
    if keypoint_score is None or not spec.use_score:
        values = torch.ones(kps.shape[:-1], device=kps.device)
    else:
        values = keypoint_score.to(kps.device, torch.float32)
        if values.shape != kps.shape[:-1]:
            raise ValueError(f'the heatmap generator got keypoint_score of shape {tuple(values.shape)}, which does '
                             f'not match keypoint of shape {tuple(keypoint.shape)} on [B, num_clips, M, T, V]')
    height, width = spec.heatmap_size(batch_image_size(img_shape, batch))
    num_channels = spec.num_channels(num_joints)
    copies = 2 if spec.double else 1
    # [copies, S, C, T, H, W] with S = B * num_clips: the clips of all samples in a row, then their mirror images
    volume = kps.new_empty((copies, batch * num_clips, num_channels, num_frames, height, width))
    order = torch.as_tensor(spec.mirror_order(num_joints), device=kps.device) if spec.double else None
    kps = kps.reshape((-1, ) + tuple(kps.shape[2:]))
    values = values.reshape((-1, ) + tuple(values.shape[2:]))
    per_clip = num_channels * num_frames * height * width
    step = max(int(max_elements) // max(per_clip, 1), 1)
    with torch.no_grad(), torch.autocast(kps.device.type, enabled=False):
        for first in range(0, kps.shape[0], step):
            part = slice(first, first + step)
            _draw_clips(spec, kps[part], values[part], volume[0, part], volume[1, part] if spec.double else None,
                        order)
    # -> [B, copies * num_clips, C, T, H, W] (a view unless B > 1 with double)
    volume = volume.reshape((copies, batch, num_clips) + tuple(volume.shape[2:])).transpose(0, 1)
    return volume.reshape((batch, copies * num_clips) + tuple(volume.shape[3:]))


def _draw_clips(spec: HeatmapSpec, kps: torch.Tensor, values: torch.Tensor, out: torch.Tensor,
                mirrored: Optional[torch.Tensor], order: Optional[torch.Tensor]) -> None:
    """Draw clips kps [S, M, T, V, 2], values [S, M, T, V] into out [S, C, T, H, W] (and their mirror images)."""
    num_joints = kps.shape[3]
    height, width = out.shape[-2:]
    channel = 0
    if spec.with_kp:
        rows, cols = _point_profiles(spec.sigma, kps, values, height, width)
        _combine_outer(rows, cols, out[:, :num_joints])
        if mirrored is not None:
            joint_order = order[:num_joints]
            _combine_outer(rows[:, :, joint_order], cols[:, :, joint_order].flip(-1), mirrored[:, :num_joints])
        channel = num_joints
    if spec.with_limb:
        _draw_limbs(spec.sigma, spec.skeletons, kps, values, out[:, channel:])
        if mirrored is not None:
            limb_order = order[channel:] - channel
            mirrored[:, channel:] = out[:, channel:][:, limb_order].flip(-1)


def _point_profiles(sigma: float, kps: torch.Tensor, values: torch.Tensor, height: int,
                    width: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Row profiles times the values [S, M, V, T, H] and column profiles [S, M, V, T, W] of the points."""
    # [S, M, V, T] coordinates and values
    x, y = kps[..., 0].transpose(2, 3), kps[..., 1].transpose(2, 3)
    values = values.transpose(2, 3)
    values = torch.where(values >= HEATMAP_EPS, values, torch.zeros_like(values))
    profiles = []
    for coord, size in ((y, height), (x, width)):
        pixels = torch.arange(size, device=coord.device, dtype=torch.float32)
        profile = torch.exp(-(pixels - coord.unsqueeze(-1))**2 / 2 / sigma**2)
        profiles.append(profile * _window_mask(coord, coord, sigma, size))
    return profiles[0] * values.unsqueeze(-1), profiles[1]


def _combine_outer(rows: torch.Tensor, cols: torch.Tensor, out: torch.Tensor) -> None:
    """out [S, V, T, H, W] = max over people of the outer products of rows [S, M, V, T, H], cols [.., W]."""
    torch.mul(rows[:, 0].unsqueeze(-1), cols[:, 0].unsqueeze(-2), out=out)
    for person in range(1, rows.shape[1]):
        torch.maximum(out, rows[:, person].unsqueeze(-1) * cols[:, person].unsqueeze(-2), out=out)


def _draw_limbs(sigma: float, skeletons: Sequence[Tuple[int, int]], kps: torch.Tensor, values: torch.Tensor,
                out: torch.Tensor) -> None:
    """Limb channels of kps [S, M, T, V, 2], values [S, M, T, V] into out [S, L, T, H, W]."""
    height, width = out.shape[-2:]
    limbs = torch.as_tensor(skeletons, device=kps.device, dtype=torch.long)
    # [S, M, L, T] ends and values
    start = kps[:, :, :, limbs[:, 0]].transpose(2, 3)
    end = kps[:, :, :, limbs[:, 1]].transpose(2, 3)
    start_value = values[:, :, :, limbs[:, 0]].transpose(2, 3)
    value = torch.minimum(start_value, values[:, :, :, limbs[:, 1]].transpose(2, 3))
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    d2_ab = (sx - ex)**2 + (sy - ey)**2
    short = d2_ab < 1
    # a limb shorter than one pixel is the point at its start, with the start's value and window
    value = torch.where(value >= HEATMAP_EPS, torch.where(short, start_value, value), torch.zeros_like(value))
    inside = (_window_mask(torch.where(short, sx, torch.minimum(sx, ex)),
                           torch.where(short, sx, torch.maximum(sx, ex)), sigma, width).unsqueeze(-2)
              & _window_mask(torch.where(short, sy, torch.minimum(sy, ey)),
                             torch.where(short, sy, torch.maximum(sy, ey)), sigma, height).unsqueeze(-1))
    x = torch.arange(width, device=kps.device, dtype=torch.float32)
    y = torch.arange(height, device=kps.device, dtype=torch.float32).unsqueeze(-1)
    for person in range(kps.shape[1]):
        # [S, L, T, 1, 1] ends against the [H, W] grid, in the operation order of the numpy engine
        psx, psy, pex, pey, pd2 = (t[:, person, ..., None, None] for t in (sx, sy, ex, ey, d2_ab))
        d2_start = (x - psx)**2 + (y - psy)**2
        d2_end = (x - pex)**2 + (y - pey)**2
        coeff = (d2_start - d2_end + pd2) / 2. / torch.where(pd2 < 1, torch.ones_like(pd2), pd2)
        d2 = (x - (psx + coeff * (pex - psx)))**2 + (y - (psy + coeff * (pey - psy)))**2
        d2 = torch.where(coeff >= 1, d2_end, d2)
        d2 = torch.where((coeff <= 0) | (pd2 < 1), d2_start, d2)
        drawn = torch.exp(-d2 / 2. / sigma**2) * value[:, person, ..., None, None]
        drawn = drawn * inside[:, person]
        if person == 0:
            out.copy_(drawn)
        else:
            torch.maximum(out, drawn, out=out)
