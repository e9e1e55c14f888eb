"""`DecompressPose`: pyskl's compressed skeletons (one row per detected person) to ``[M, T, V, 2]`` arrays."""
import numpy as np

from ..registry import PIPELINES

_FLOAT16_MAX = float(np.finfo(np.float16).max)


@PIPELINES.register_module()
class DecompressPose:
    """Turn a compressed pose annotation (pyskl's Kinetics-400 skeleton format) into person / frame arrays.

    A compressed sample holds one row per detected person: ``frame_inds`` ``[N]`` (the frame of each row,
    non-decreasing) and ``keypoint`` ``[N, V, 3]`` (x, y, score). When ``anno_inds`` is present (a ``[N]`` bool
    mask or an array of row indices, set by `PoseDataset` from ``box_thr``) only those rows are used.

    With ``squeeze`` the frames are renumbered to the frames that have a person (``total_frames`` becomes their
    count); otherwise the frame numbers are kept and frames without a person stay zero. The i-th person (row) of a
    frame goes to person slot i. M is the largest number of persons in any frame; when it exceeds ``max_person``,
    the persons of every frame are sorted by their summed keypoint score (highest first, ties keep their order) and
    only ``max_person`` are kept.

    Reads ``frame_inds``, ``keypoint``, ``total_frames`` and ``anno_inds`` (optional). Sets ``keypoint``
    ``[M, T, V, 2]`` and ``keypoint_score`` ``[M, T, V]`` (both float16, as pyskl) and ``total_frames`` (T);
    removes ``frame_inds`` and ``anno_inds`` (the frame sampler writes its own ``frame_inds``).

    Args:
        squeeze (bool): drop the frames without any person. Default: True.
        max_person (int): the most persons kept per frame. Default: 10.
    """

    def __init__(self, squeeze: bool = True, max_person: int = 10) -> None:
        if isinstance(max_person, bool) or int(max_person) != max_person or max_person < 1:
            raise ValueError(f'DecompressPose: max_person must be a positive integer, got {max_person!r}')
        self.squeeze = bool(squeeze)
        self.max_person = int(max_person)

    @staticmethod
    def _fail(results: dict, field: str, problem: str) -> ValueError:
        name = results.get('frame_dir', results.get('filename', '?'))
        return ValueError(f'DecompressPose: sample {name!r}, field {field!r}: {problem}')

    def _rows(self, results: dict):
        """``frame_inds`` ``[N']`` and ``keypoint`` ``[N', V, 3]`` of the rows to use, checked."""
        for key in ('frame_inds', 'keypoint', 'total_frames'):
            if key not in results:
                raise self._fail(results, key, 'missing; DecompressPose needs a compressed sample (frame_inds [N], '
                                 'keypoint [N, V, 3], total_frames) and must come first in the pipeline')
        frame_inds = np.asarray(results.pop('frame_inds'))
        keypoint = np.asarray(results['keypoint'])
        if frame_inds.ndim != 1 or (frame_inds.size and frame_inds.dtype.kind not in 'iu'):
            raise self._fail(results, 'frame_inds', f'has shape {frame_inds.shape} and dtype {frame_inds.dtype}, '
                             'expected integer frame numbers [N]')
        if keypoint.ndim != 3 or keypoint.shape[2] != 3 or keypoint.shape[0] != len(frame_inds):
            raise self._fail(results, 'keypoint', f'has shape {keypoint.shape}, expected [N, V, 3] (x, y, score) '
                             f'with N = {len(frame_inds)} rows as in frame_inds')
        anno_inds = results.pop('anno_inds', None)
        if anno_inds is not None:
            anno_inds = np.asarray(anno_inds)
            if anno_inds.dtype == np.bool_:
                if anno_inds.shape != frame_inds.shape:
                    raise self._fail(results, 'anno_inds', f'is a mask of shape {anno_inds.shape}, expected '
                                     f'{frame_inds.shape} (one entry per row)')
            elif anno_inds.ndim != 1 or (anno_inds.size and (anno_inds.dtype.kind not in 'iu' or anno_inds.min() < 0
                                                             or anno_inds.max() >= len(frame_inds))):
                raise self._fail(results, 'anno_inds', f'must be a bool mask or row indices in [0, {len(frame_inds)})')
            frame_inds, keypoint = frame_inds[anno_inds], keypoint[anno_inds]
        if frame_inds.size == 0:
            raise self._fail(results, 'keypoint', 'no person row left (every box_score is below box_thr, or the '
                             'clip has no detection); drop such clips with PoseDataset(valid_ratio=...) > 0')
        steps = np.diff(frame_inds)
        if (steps < 0).any():
            row = int(np.argmax(steps < 0)) + 1
            raise self._fail(results, 'frame_inds', f'is not non-decreasing (row {row} has frame {frame_inds[row]} '
                             f'after {frame_inds[row - 1]}); rows must be sorted by frame')
        if frame_inds[0] < 0:
            raise self._fail(results, 'frame_inds', f'holds the negative frame {frame_inds[0]}')
        if not np.isfinite(keypoint).all():
            raise self._fail(results, 'keypoint', 'holds NaN or inf values')
        if np.abs(keypoint[..., :2]).max() > _FLOAT16_MAX:
            raise self._fail(results, 'keypoint', f'holds coordinates beyond {_FLOAT16_MAX:g}, which float16 cannot '
                             'hold; keypoints must be in pixels')
        return frame_inds.astype(np.int64), keypoint

    def __call__(self, results: dict) -> dict:
        frame_inds, keypoint = self._rows(results)
        if self.squeeze:
            frame_inds = np.unique(frame_inds, return_inverse=True)[1].reshape(-1)
            total_frames = int(frame_inds[-1]) + 1
        else:
            total_frames = int(results['total_frames'])
            if frame_inds[-1] >= total_frames:
                raise self._fail(results, 'frame_inds', f'holds frame {frame_inds[-1]} but total_frames is '
                                 f'{total_frames}')
        num_rows, num_joints = keypoint.shape[:2]
        score = keypoint[..., 2].astype(np.float16)
        first_row = np.searchsorted(frame_inds, frame_inds, side='left')  # rows are sorted by frame
        slot = np.arange(num_rows) - first_row
        num_person = int(slot.max()) + 1
        keep = np.ones(num_rows, dtype=bool)
        if num_person > self.max_person:
            # rank each frame's persons by summed score (float16 sums, as pyskl), stable for ties
            order = np.lexsort((slot, -score.sum(axis=-1), frame_inds))
            slot = np.empty(num_rows, dtype=np.int64)
            slot[order] = np.arange(num_rows) - first_row
            keep = slot < self.max_person
            num_person = self.max_person
        kp = np.zeros((num_person, total_frames, num_joints, 2), dtype=np.float16)
        kp_score = np.zeros((num_person, total_frames, num_joints), dtype=np.float16)
        kp[slot[keep], frame_inds[keep]] = keypoint[keep, :, :2]
        kp_score[slot[keep], frame_inds[keep]] = score[keep]
        results['keypoint'] = kp
        results['keypoint_score'] = kp_score
        results['total_frames'] = total_frames
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(squeeze={self.squeeze}, max_person={self.max_person})'
