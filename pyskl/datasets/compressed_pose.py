"""pyskl's compressed skeleton annotations (its Kinetics-400 format): checks, box filtering, ``raw_file`` loading.

A compressed annotation keeps ``label``, ``frame_dir``, ``img_shape``, ``original_shape`` and ``total_frames`` and,
instead of ``[M, T, V, 2]`` arrays, one row per detected person: ``frame_inds`` ``[N]`` (non-decreasing),
``keypoint`` ``[N, V, 3]`` (x, y, score), ``box_score`` ``[N]`` and ``valid`` (box threshold -> number of frames with
a kept person). `PoseDataset` keeps the rows with ``box_score >= box_thr`` as ``anno_inds`` and `DecompressPose`
turns the rows into arrays.

The keypoints may instead live in ``raw_file``: a pickle holding either ``{key: fields}`` for several samples
(pyskl's layout; ``key`` defaults to the sample's ``frame_dir``) or the fields of one sample. It is read when the
sample is fetched. With ``memcached=True`` the contents are cached in a memcached server through pymemcache, as
pyskl does; when pymemcache is not installed or the server at ``mc_cfg`` does not answer, a warning naming
``mc_cfg`` is given once and the files are read directly (pymemcache is an optional dependency). The client's
serializer is written here instead of pymemcache's pickle serde so that cached values go through the same loader as
the files; it reads and writes the entries pyskl's serde writes.
"""
import io
import os
import os.path as osp
import pickle
import warnings
from typing import Any, Optional, Tuple

import numpy as np

from ..utils.validation import is_int
from .errors import AnnotationError, sample_error
from .pickle_io import read_pickle, unpickle_stream

_WARNED = set()  # mc_cfg values already warned about in this process
_PICKLE_FLAG = 1  # pymemcache's flag for pickled values (pyskl's pickle_serde writes the same)


def _load_raw_file(path: str, unsafe: bool = False) -> Any:
    """The contents of the pickle ``path`` (restricted unpickling unless ``unsafe``)."""
    return read_pickle(path, 'raw_file', unsafe)


def is_compressed(ann: dict) -> bool:
    """Whether ``ann`` is in the compressed format (it has ``frame_inds``)."""
    return 'frame_inds' in ann


def _name(ann: dict) -> Optional[str]:
    return ann.get('frame_dir', ann.get('filename'))


def check_compressed(ann_file: str, index: int, ann: dict, box_thr: Optional[float] = None) -> None:
    """Raise an `AnnotationError` naming the file, the sample and the field for a malformed compressed sample.

    Checks ``total_frames`` (int >= 1), ``frame_inds`` (integers in ``[0, total_frames)``, non-decreasing),
    ``keypoint`` (``[N, V, 3]``, finite), ``box_score`` (``[N]``; required when ``box_thr`` is set) and ``anno_inds``
    when present. ``keypoint`` and ``box_score`` may be left to ``raw_file`` (checked again once it is read).
    """

    def fail(field: str, problem: str) -> AnnotationError:
        return sample_error(ann_file, index, _name(ann), field, problem)

    total = ann.get('total_frames')
    if not is_int(total) or total < 1:
        raise fail('total_frames', f'is {total!r}; a compressed sample needs the number of frames (an int >= 1)')
    frame_inds = ann['frame_inds']
    if not isinstance(frame_inds, np.ndarray) or frame_inds.ndim != 1 or (frame_inds.size
                                                                          and frame_inds.dtype.kind not in 'iu'):
        raise fail('frame_inds', f'is {type(frame_inds).__name__} of shape {getattr(frame_inds, "shape", None)} and '
                   f'dtype {getattr(frame_inds, "dtype", None)}; expected an integer array [N] (the frame of each row)')
    num_rows = len(frame_inds)
    steps = np.diff(frame_inds)
    if (steps < 0).any():
        row = int(np.argmax(steps < 0)) + 1
        raise fail('frame_inds', f'is not non-decreasing: row {row} has frame {frame_inds[row]} after '
                   f'{frame_inds[row - 1]}; rows must be sorted by frame')
    if num_rows and (frame_inds[0] < 0 or frame_inds[-1] >= total):
        raise fail('frame_inds', f'holds frames {frame_inds[0]}..{frame_inds[-1]}, outside [0, total_frames={total})')
    if 'keypoint' in ann:
        kp = ann['keypoint']
        if not isinstance(kp, np.ndarray) or kp.dtype.kind not in 'iuf':
            raise fail('keypoint', f'is {type(kp).__name__} of dtype {getattr(kp, "dtype", None)}; expected a numeric '
                       'array [N, V, 3]')
        if kp.ndim != 3 or kp.shape[2] != 3 or kp.shape[0] != num_rows:
            raise fail('keypoint', f'has shape {kp.shape}, expected [N, V, 3] (x, y, score) with N = {num_rows} rows '
                       'as in frame_inds')
        if kp.dtype.kind == 'f' and not np.isfinite(kp).all():
            raise fail('keypoint', f'has {int((~np.isfinite(kp)).sum())} NaN / inf values; mark missing joints with '
                       'coordinates 0 and score 0 instead')
    elif 'raw_file' not in ann:
        raise fail('keypoint', 'missing; a compressed sample needs keypoint [N, V, 3] (or a raw_file holding it)')
    if 'box_score' in ann:
        box = ann['box_score']
        shape = getattr(box, 'shape', None)
        if not isinstance(box, np.ndarray) or box.dtype.kind not in 'iuf' or shape != (num_rows, ):
            raise fail('box_score', f'has shape {shape} (dtype {getattr(box, "dtype", None)}); expected one score per '
                       f'row, [N] = ({num_rows},)')
    elif box_thr is not None and 'keypoint' in ann:
        raise fail('box_score', f'missing, but box_thr={box_thr} keeps only the rows whose box_score reaches it; give '
                   'box_score [N] or set box_thr=None')
    if 'anno_inds' in ann:
        inds = np.asarray(ann['anno_inds'])
        mask_ok = inds.dtype == np.bool_ and inds.shape == (num_rows, )
        rows_ok = inds.dtype.kind in 'iu' and inds.ndim == 1 and (not inds.size or inds.max() < num_rows)
        if not (mask_ok or rows_ok):
            raise fail('anno_inds', f'must be a bool mask [{num_rows}] or row indices below {num_rows}')


def check_raw_file(ann_file: str, index: int, ann: dict) -> None:
    """A sample that keeps its keypoints in ``raw_file`` must name an existing file."""
    raw_file = ann['raw_file']
    if not isinstance(raw_file, str):
        raise sample_error(ann_file, index, _name(ann), 'raw_file', f'is {raw_file!r}; expected the path of a pickle')
    if not osp.isfile(raw_file):
        relative = '' if osp.isabs(raw_file) else f' (relative to the working directory {os.getcwd()})'
        raise sample_error(ann_file, index, _name(ann), 'raw_file', f'{raw_file} does not exist{relative}; the '
                           'sample keeps its keypoints there: download the raw files or fix the paths')


def valid_fraction(ann_file: str, index: int, ann: dict, box_thr: Optional[float]) -> float:
    """``valid[box_thr] / total_frames`` of a compressed (or ``raw_file``) sample, for ``valid_ratio``.

    ``valid`` is a dict from box threshold (a number or its string) to a frame count, or a plain frame count.
    """

    def fail(field: str, problem: str) -> AnnotationError:
        return sample_error(ann_file, index, _name(ann), field, problem)

    total = ann.get('total_frames')
    if not is_int(total) or total < 1:
        raise fail('total_frames', f'is {total!r}; valid_ratio needs a positive int')
    valid = ann.get('valid')
    if isinstance(valid, (int, float, np.number)) and not isinstance(valid, (bool, np.bool_)):
        return float(valid) / total
    if not isinstance(valid, dict):
        raise fail('valid', f'is {valid!r}; valid_ratio > 0 needs valid[box_thr] (a dict from box threshold to the '
                   'number of frames with a kept person); set valid_ratio=0.0 to keep every clip')
    if box_thr is None:
        raise fail('valid', 'valid_ratio > 0 needs box_thr: valid counts the frames with a person at a box threshold')

    def as_float(key) -> Optional[float]:
        try:
            return float(key)
        except (TypeError, ValueError):
            return None

    matches = [k for k in valid if as_float(k) is not None and np.isclose(as_float(k), box_thr)]
    if not matches:
        raise fail('valid', f'has no entry for box_thr={box_thr} (keys: {sorted(map(str, valid))}); use one of them '
                   'as box_thr or set valid_ratio=0.0')
    return float(valid[matches[0]]) / total


def apply_box_thr(results: dict, box_thr: Optional[float]) -> dict:
    """Store the rows with ``box_score >= box_thr`` as ``anno_inds`` (``[N]`` bool) and drop ``box_score``."""
    box = results.pop('box_score', None)
    if box_thr is not None and box is not None:
        keep = np.asarray(box) >= box_thr
        if 'anno_inds' in results:  # a selection already in the file: keep rows that pass both
            given = np.zeros(len(keep), dtype=bool)
            given[np.asarray(results['anno_inds'])] = True
            keep &= given
        results['anno_inds'] = keep
    return results


def compress_annotation(ann: dict,
                        box_score: Optional[np.ndarray] = None,
                        thresholds: Tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)) -> dict:
    """A 2D annotation (``keypoint`` ``[M, T, V, 2]``, ``keypoint_score`` ``[M, T, V]``) in the compressed format.

    Person m is a row of frame t when one of its keypoint scores there is non-zero; rows are ordered by frame, then
    person. ``box_score`` ``[M, T]`` defaults to 1; ``valid`` counts, for each threshold, the frames with a row whose
    box score reaches it. Other fields are kept.
    """
    kp, score = np.asarray(ann['keypoint']), np.asarray(ann['keypoint_score'])
    if kp.ndim != 4 or kp.shape[-1] != 2 or score.shape != kp.shape[:3]:
        raise ValueError(f'compress_annotation: expected keypoint [M, T, V, 2] and keypoint_score [M, T, V], got '
                         f'{kp.shape} and {score.shape}')
    box = np.ones(kp.shape[:2], np.float32) if box_score is None else np.asarray(box_score, np.float32)
    if box.shape != kp.shape[:2]:
        raise ValueError(f'compress_annotation: box_score has shape {box.shape}, expected [M, T] = {kp.shape[:2]}')
    frame, person = np.nonzero((score > 0).any(axis=-1).T)  # sorted by frame, then person
    out = {k: v for k, v in ann.items() if k not in ('keypoint', 'keypoint_score', 'box_score', 'valid')}
    row_box = box[person, frame]
    out.update(
        frame_inds=frame.astype(np.int64),
        keypoint=np.concatenate([kp[person, frame], score[person, frame, :, None]], axis=-1).astype(np.float32),
        box_score=row_box,
        valid={thr: int(np.unique(frame[row_box >= thr]).size) for thr in thresholds})
    return out


class _Serde:
    """pymemcache serde: values are pickled (flag 1, as pyskl) and unpickled by the raw-file loader."""

    def __init__(self, unsafe: bool = False) -> None:
        self.unsafe = unsafe

    def serialize(self, key, value):
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), _PICKLE_FLAG

    def deserialize(self, key, value, flags):
        if flags != _PICKLE_FLAG:
            return None  # not written by us or pyskl: treat as a miss
        return unpickle_stream(io.BytesIO(value), f'memcached value {key!r}', self.unsafe)


def _memcache_client(mc_cfg: tuple, unsafe_pickle: bool = False):
    """A pymemcache client for ``(host, port)``; raises ImportError when pymemcache is not installed.

    Values read back go through the restricted unpickler unless ``unsafe_pickle``.
    """
    from pymemcache.client.base import Client
    return Client(tuple(mc_cfg), serde=_Serde(unsafe_pickle), connect_timeout=2, timeout=10)


def _warn_direct(mc_cfg, reason: str) -> None:
    key = tuple(mc_cfg) if isinstance(mc_cfg, (list, tuple)) else mc_cfg
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f'PoseDataset(memcached=True, mc_cfg={mc_cfg!r}): {reason}; reading raw_file pickles directly '
                  'without a cache', stacklevel=3)


class RawFileReader:
    """Fetches the fields that samples keep in ``raw_file``, through memcached when asked for and available.

    Args:
        memcached (bool): cache the raw files' contents in memcached (pyskl's ``memcached``).
        mc_cfg (tuple, optional): ``(host, port)`` of the memcached server.
        unsafe_pickle (bool): unpickle raw files and cached values with plain pickle (an explicit opt-in).
    """

    def __init__(self, memcached: bool, mc_cfg: Optional[tuple], unsafe_pickle: bool = False) -> None:
        self.memcached = memcached
        self.mc_cfg = mc_cfg
        self.unsafe_pickle = unsafe_pickle
        self._client = None
        self._direct = not memcached

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_client'] = None  # a connection must not be shared by forked loader workers
        return state

    def _fall_back(self, reason: str) -> None:
        self._direct = True
        self._client = None
        _warn_direct(self.mc_cfg, reason)

    def _connect(self):
        if self._direct:
            return None
        if self._client is None:
            try:
                self._client = _memcache_client(self.mc_cfg, self.unsafe_pickle)
            except ImportError:
                self._fall_back('pymemcache is not installed (pip install pymemcache to use the cache)')
        return self._client

    def _call(self, method: str, *args):
        """A client call; on a connection problem, warn once and read files directly from then on."""
        try:
            return getattr(self._client, method)(*args)
        except AnnotationError:  # a cached value that does not unpickle
            raise
        except Exception as e:  # pymemcache raises socket errors and its own MemcacheError types
            self._fall_back(f'the memcached server cannot be used ({type(e).__name__}: {e})')
            return None

    def fetch(self, results: dict, ann_file: str) -> dict:
        """``results`` updated with the fields stored for it in ``results['raw_file']``."""
        raw_file = results['raw_file']
        key = results.get('key', _name(results))
        pack = self._call('get', key) if self._connect() is not None else None
        if not isinstance(pack, dict):
            if not osp.isfile(raw_file):
                raise FileNotFoundError(f'raw_file {raw_file} of sample {key!r} (ann_file {ann_file}) does not exist')
            raw = _load_raw_file(raw_file, self.unsafe_pickle)
            if isinstance(raw, dict) and isinstance(raw.get(key), dict):
                pack, entries = raw[key], raw
            elif isinstance(raw, dict) and 'keypoint' in raw:
                pack, entries = raw, {key: raw}
            else:
                keys = sorted(map(str, raw))[:5] if isinstance(raw, dict) else type(raw).__name__
                raise AnnotationError(f'raw_file {raw_file} (of ann_file {ann_file}) has no entry {key!r} for sample '
                                      f'{key!r} and is not the fields of one sample (no keypoint); found {keys}')
            for k, v in entries.items():
                if self._client is None:
                    break
                self._call('set', k, v)
        merged = dict(results)
        merged.update(pack)
        return merged
