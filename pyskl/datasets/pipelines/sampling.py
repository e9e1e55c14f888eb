"""Frame sampling: `UniformSampleFrames`."""
from typing import Tuple, Union

import numpy as np

from ..registry import PIPELINES


@PIPELINES.register_module()
class UniformSampleFrames:
    """Sample ``num_clips`` clips of ``clip_len`` frames each, spread uniformly over the video.

    For every clip a sub-interval of the video is chosen first: its length is ``ratio * total_frames`` with
    ``ratio`` drawn uniformly from ``p_interval`` and its start drawn uniformly. That interval of ``n`` frames is
    then split:

    - ``n < clip_len``: ``clip_len`` consecutive frames (wrapping around the video);
    - ``clip_len <= n < 2 * clip_len``: ``clip_len`` distinct frames, ``n - clip_len`` random gaps of one frame;
    - otherwise: ``clip_len`` equal buckets, one random frame from each.

    In test mode (``results['test_mode']`` is True) numpy's global random generator is reseeded with ``seed`` at
    every call, so the indices only depend on the video length (pyskl's behaviour), and the short case starts
    clip ``i`` at a fixed offset. In training mode nothing is reseeded and the short case starts at random.

    Reads ``total_frames`` (or the length of ``keypoint``) and ``start_index`` (default 0). Sets ``frame_inds``
    (int64 array of ``num_clips * clip_len`` indices), ``clip_len``, ``frame_interval`` (None) and ``num_clips``.

    Args:
        clip_len (int): frames per clip.
        num_clips (int): number of clips.
        p_interval (float | tuple[float, float]): the fraction of the video each clip is drawn from, fixed or a
            (low, high) range.
        seed (int): the seed used in test mode.
    """

    def __init__(self,
                 clip_len: int,
                 num_clips: int = 1,
                 p_interval: Union[float, Tuple[float, float]] = 1,
                 seed: int = 255) -> None:
        if int(clip_len) != clip_len or clip_len < 1:
            raise ValueError(f'UniformSampleFrames: clip_len must be a positive integer, got {clip_len!r}')
        if int(num_clips) != num_clips or num_clips < 1:
            raise ValueError(f'UniformSampleFrames: num_clips must be a positive integer, got {num_clips!r}')
        if isinstance(p_interval, (int, float)):
            p_interval = (p_interval, p_interval)
        p_interval = tuple(float(p) for p in p_interval)
        if len(p_interval) != 2 or not 0 < p_interval[0] <= p_interval[1] <= 1:
            raise ValueError(f'UniformSampleFrames: p_interval must be a number in (0, 1] or a (low, high) pair '
                             f'with 0 < low <= high <= 1, got {p_interval!r}')
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.p_interval = p_interval
        self.seed = seed

    def _one_clip(self, num_frames: int, clip_index: int, test_mode: bool) -> np.ndarray:
        """Indices (before wrapping) of one clip drawn from a video of ``num_frames`` frames."""
        clip_len = self.clip_len
        low, high = self.p_interval
        ratio = np.random.rand() * (high - low) + low
        n = int(ratio * num_frames)
        offset = np.random.randint(num_frames - n + 1)
        if n < clip_len:
            if test_mode:
                start = clip_index if n < self.num_clips else clip_index * n // self.num_clips
            else:
                start = np.random.randint(0, max(n, 1))
            inds = np.arange(start, start + clip_len)
        elif n < 2 * clip_len:
            gaps = np.random.choice(clip_len + 1, n - clip_len, replace=False)
            marks = np.zeros(clip_len + 1, dtype=np.int64)
            marks[gaps] = 1
            inds = np.arange(clip_len) + np.cumsum(marks)[:-1]
        else:
            bounds = np.arange(clip_len + 1) * n // clip_len
            inds = bounds[:-1] + np.random.randint(np.diff(bounds))
        return inds + offset

    def sample(self, num_frames: int, test_mode: bool) -> np.ndarray:
        """Frame indices in ``[0, num_frames)`` for all clips, concatenated: ``[num_clips * clip_len]``."""
        if test_mode:
            np.random.seed(self.seed)
        clips = [self._one_clip(num_frames, i, test_mode) for i in range(self.num_clips)]
        return np.mod(np.concatenate(clips), num_frames).astype(np.int64)

    def __call__(self, results: dict) -> dict:
        if 'total_frames' in results:
            num_frames = int(results['total_frames'])
        elif 'keypoint' in results:
            num_frames = int(results['keypoint'].shape[1])
        else:
            raise KeyError(f'UniformSampleFrames: sample {results.get("frame_dir", "?")!r} has neither '
                           f'"total_frames" nor "keypoint"; add total_frames to the annotation')
        if num_frames < 1:
            raise ValueError(f'UniformSampleFrames: sample {results.get("frame_dir", "?")!r} has total_frames='
                             f'{num_frames}; every sample needs at least one frame')
        inds = self.sample(num_frames, bool(results.get('test_mode', False)))
        results['frame_inds'] = inds + int(results.get('start_index', 0))
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
                f'p_interval={self.p_interval}, seed={self.seed})')
