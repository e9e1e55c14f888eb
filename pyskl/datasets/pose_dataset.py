"""`PoseDataset`: pyskl's skeleton annotation pickles, validated once at load time."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..utils.logger import get_root_logger
from ..utils.validation import check_class_subset, is_int
from . import annotation_checks as checks
from . import compressed_pose
from .base import BaseDataset
from .errors import AnnotationError, sample_error
from .pickle_io import read_pickle as _read_pickle
from .registry import DATASETS

_MAX_LISTED = 5


@DATASETS.register_module()
class PoseDataset(BaseDataset):
    """Skeleton clips from a pyskl annotation pickle.

    The file holds ``dict(split=dict(name=[frame_dir, ...]), annotations=[...])`` or a bare list of annotations.
    Each annotation is a dict with ``frame_dir`` (or ``filename``), ``label`` (int), ``total_frames``,
    ``keypoint`` ``[M, T, V, 2]`` in pixels with ``keypoint_score`` ``[M, T, V]`` (2D), or ``keypoint``
    ``[M, T, V, 3]`` without scores (3D), and usually ``img_shape`` / ``original_shape`` ``(h, w)``. M is the number
    of people, T of frames (``total_frames``), V of joints. Coordinates outside ``img_shape`` are legal.

    Every kept sample is validated when the dataset is built; a malformed one raises an `AnnotationError` that
    names the file, the sample (index in the file and ``frame_dir``) and the field. Besides the fields' types and
    shapes, these choices hold (see `pyskl.datasets.annotation_checks`): 2D samples need ``img_shape``, and any
    ``img_shape`` / ``original_shape`` is two positive ints; a sample with no person (``M = 0``), a negative
    ``keypoint_score``, two samples with one ``frame_dir`` (anywhere in the file) and samples whose joint count V
    differs from the other samples' are refused. Labels are checked against ``num_classes`` in training and in
    testing whenever it is given. Samples in pyskl's compressed form (with ``frame_inds``) get the label, image-size
    and joint-count checks; their arrays are checked when they are decompressed.

    The file is read by a restricted unpickler (`pyskl.utils.safe_pickle`) that loads only builtin containers /
    scalars and numpy arrays, dtypes and scalars, and refuses a pickle naming any other global (it could run code)
    with an error naming the file and the global. ``raw_file`` pickles and values read back from memcached go
    through it too.

    Args:
        ann_file (str): the annotation pickle.
        pipeline: the transforms (see `BaseDataset`).
        split (str, optional): keep only the samples listed in ``split[split]``, in the file's order.
        valid_ratio (float, optional): keep only samples whose fraction of valid frames is at least this. The valid
            frame count is ``valid[box_thr]`` when the annotation has a ``valid`` dict (pyskl's detector pickles)
            and ``box_thr`` is set, else the number of frames where some (kept) person has a non-zero keypoint.
        box_thr (float, optional): when an annotation has ``box_score`` ``[M, T]``, people / frames whose box score
            is below the threshold are blanked (keypoints and scores set to 0, which means "missing") and people
            with no frame left are dropped (at least one person stays); the mask of the remaining people is passed
            on as ``anno_inds`` ``[M', T]``. Compressed samples (pyskl's Kinetics-400 format, with ``frame_inds``;
            see `pyskl.datasets.compressed_pose`) keep the rows with ``box_score >= box_thr`` as ``anno_inds``
            ``[N]`` for `DecompressPose`; for them ``valid_ratio`` reads ``valid[box_thr]``.
        class_prob (list | dict, optional): per-class multipliers >= 1 for training: a sample of class ``c`` appears
            ``floor(p_c)`` times plus once more with probability ``p_c - floor(p_c)`` (drawn once, with
            ``class_prob_seed``). Classes missing from a dict get 1. Ignored in test mode. ``file_indices[i]`` is
            the position in the file of dataset sample ``i``.
        memcached (bool): samples that carry ``raw_file`` (a pickle of ``{key: sample fields}``, ``key`` defaulting
            to ``frame_dir``, or of one sample's fields) instead of their keypoints are always read from it when
            fetched; with ``memcached`` through a memcached server, filled from ``raw_file`` on a miss. Without
            pymemcache or an answering server, a warning naming ``mc_cfg`` is given once and files are read directly.
        mc_cfg (tuple, optional): ``(host, port)`` of the memcached server.
        class_prob_seed (int): seed of the draw for the fractional part of ``class_prob``.
        class_subset (list[int], optional): keep only the samples whose label is one of these 0-based class ids
            (zero-shot learning: the seen classes for training, the unseen ones for testing). Labels keep their
            original ids, so they still index the class list and the model's scores.
        unsafe_pickle (bool): read the annotation (and ``raw_file``, memcached) pickles with plain ``pickle.load``,
            which runs whatever code a pickle names. Only for files you trust that hold other objects than
            builtins and numpy arrays; the checks of the samples still run.
        kwargs: `BaseDataset` arguments (``test_mode``, ``num_classes``, ``multi_class``, ``data_prefix``,
            ``start_index``, ``modality``).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Optional[Union[Sequence[Union[dict, Callable]], Callable]],
                 split: Optional[str] = None,
                 valid_ratio: Optional[float] = None,
                 box_thr: Optional[float] = None,
                 class_prob: Optional[Union[Sequence[float], Dict[int, float]]] = None,
                 memcached: bool = False,
                 mc_cfg: Optional[tuple] = None,
                 class_prob_seed: int = 0,
                 class_subset: Optional[Sequence[int]] = None,
                 unsafe_pickle: bool = False,
                 **kwargs) -> None:
        for name, value in (('valid_ratio', valid_ratio), ('box_thr', box_thr)):
            if value is not None and (not isinstance(value, (int, float)) or not 0 <= value <= 1):
                raise ValueError(f'PoseDataset({ann_file}): {name} must be a number in [0, 1] or None, got {value!r}')
        if memcached:
            if mc_cfg is None:
                raise ValueError(f'PoseDataset({ann_file}): memcached=True needs mc_cfg=(host, port)')
        self.split = split
        self.valid_ratio = valid_ratio
        self.box_thr = box_thr
        self.class_prob = class_prob
        self.class_prob_seed = class_prob_seed
        self.class_subset = self._check_class_subset(ann_file, class_subset, kwargs)
        if not isinstance(unsafe_pickle, bool):
            raise TypeError(f'PoseDataset({ann_file}): unsafe_pickle must be True or False, got {unsafe_pickle!r}')
        self.unsafe_pickle = unsafe_pickle
        self.memcached = memcached
        self.mc_cfg = mc_cfg
        self._raw_reader = compressed_pose.RawFileReader(memcached, mc_cfg, unsafe_pickle)
        self.file_indices: List[int] = []
        super().__init__(ann_file, pipeline, **kwargs)
        if class_prob is not None and not self.test_mode:
            self._repeat_by_class()

    @staticmethod
    def _check_class_subset(ann_file: str, class_subset, kwargs: dict) -> Optional[List[int]]:
        """``class_subset`` as a list of distinct non-negative ints (below ``num_classes`` when given), or None."""
        if class_subset is None:
            return None
        where = f'PoseDataset({ann_file}): class_subset'
        if kwargs.get('multi_class'):
            raise ValueError(f'{where} is not supported with multi_class=True')
        return check_class_subset(class_subset, kwargs.get('num_classes'), name=where)

    # ------------------------------------------------------------------ loading

    def load_annotations(self) -> List[dict]:
        """Read, filter and validate the annotations; see the class docstring."""
        annotations, splits = self._annotation_list(_read_pickle(self.ann_file, unsafe=self.unsafe_pickle))
        ids = [self._identifier(i, ann) for i, ann in enumerate(annotations)]
        checks.check_unique_ids(self.ann_file, ids)
        kept = self._split_indices(ids, splits)
        for i in kept:
            ann = annotations[i]
            self._check_sample(i, ann, deferred=self._is_deferred(ann) or compressed_pose.is_compressed(ann))
            if compressed_pose.is_compressed(ann):  # pyskl's per-person rows, not [M, T, V, 2]
                compressed_pose.check_compressed(self.ann_file, i, ann, self.box_thr)
            if self._is_deferred(ann):
                compressed_pose.check_raw_file(self.ann_file, i, ann)
        layouts = ((i, ids[i], checks.joint_layout(annotations[i])) for i in kept)
        checks.check_joint_layouts(self.ann_file, [s for s in layouts if s[2] is not None])

        infos, indices = [], []
        subset = None if self.class_subset is None else set(self.class_subset)
        in_subset = 0
        for i in kept:
            ann = annotations[i]
            if subset is not None:
                if ann['label'] not in subset:
                    continue
                in_subset += 1
            if self.valid_ratio:
                if compressed_pose.is_compressed(ann) or self._is_deferred(ann):
                    frac = compressed_pose.valid_fraction(self.ann_file, i, ann, self.box_thr)
                else:
                    frac = self._valid_fraction(i, ann)
                if frac < self.valid_ratio:
                    continue
            info = dict(ann)
            info.pop('valid', None)
            if self.box_thr is None:
                info.pop('box_score', None)
            if self._is_deferred(ann):
                info.setdefault('key', ann.get('frame_dir', ann.get('filename')))
            if self.data_prefix:
                for key in ('filename', 'frame_dir'):
                    if key in info:
                        info[key] = osp.join(self.data_prefix, info[key])
            infos.append(info)
            indices.append(i)

        where = f' in split {self.split!r}' if self.split is not None else ''
        if not kept:
            raise AnnotationError(f'ann_file {self.ann_file}: there are no samples{where}')
        if subset is not None and not in_subset:
            raise AnnotationError(f'ann_file {self.ann_file}: none of the {len(kept)} samples{where} has a label in '
                                  f'class_subset={self.class_subset}')
        candidates = len(kept) if subset is None else in_subset
        if not infos:
            raise AnnotationError(f'ann_file {self.ann_file}: no sample left: all {candidates} samples{where} have a '
                                  f'fraction of valid frames below valid_ratio={self.valid_ratio}')
        dropped = ''
        if subset is not None:
            dropped += f', {len(kept) - in_subset} outside class_subset ({len(self.class_subset)} classes)'
        if candidates > len(infos):
            dropped += f', {candidates - len(infos)} dropped by valid_ratio={self.valid_ratio}'
        get_root_logger().info(f'{self.ann_file}: {len(infos)} samples{where}{dropped}')
        self.file_indices = indices
        return infos

    def _annotation_list(self, data) -> Tuple[list, Optional[dict]]:
        """The file's annotation list and its split dict (None for a bare list)."""
        if isinstance(data, dict):
            if not isinstance(data.get('annotations'), list):
                raise AnnotationError(f'ann_file {self.ann_file}: expected dict(split=..., annotations=[...]) or a '
                                      f'list of annotation dicts, got a dict with keys {sorted(map(str, data))}')
            splits = data.get('split')
            if splits is not None and not isinstance(splits, dict):
                raise AnnotationError(f"ann_file {self.ann_file}: 'split' must be a dict of name -> list of "
                                      f'frame_dir, got {type(splits).__name__}')
            return data['annotations'], splits
        if isinstance(data, list):
            return data, None
        raise AnnotationError(f'ann_file {self.ann_file}: expected dict(split=..., annotations=[...]) or a list of '
                              f'annotation dicts, got {type(data).__name__}')

    def _identifier(self, index: int, ann) -> str:
        if not isinstance(ann, dict):
            raise sample_error(self.ann_file, index, None, '(sample)',
                               f'is a {type(ann).__name__}, expected an annotation dict')
        field = 'filename' if 'filename' in ann else 'frame_dir'
        if field not in ann:
            raise sample_error(self.ann_file, index, None, 'frame_dir',
                               f'missing: every sample needs a frame_dir identifier (keys: {sorted(map(str, ann))})')
        name = ann[field]
        if not isinstance(name, str) or not name:
            raise sample_error(self.ann_file, index, None, field,
                               f'is {name!r} ({type(name).__name__}); expected a non-empty str that identifies the '
                               'sample')
        return name

    def _split_indices(self, ids: List[str], splits: Optional[dict]) -> List[int]:
        """Positions in the file of the samples in ``self.split`` (all samples when it is None)."""
        if self.split is None:
            return list(range(len(ids)))
        if splits is None:
            raise AnnotationError(f"ann_file {self.ann_file}: split={self.split!r} was requested but the file has no "
                                  "'split' dict; use split=None or a file of the form dict(split=..., annotations=...)")
        if self.split not in splits:
            raise AnnotationError(f'ann_file {self.ann_file}: split {self.split!r} is not in the file; available '
                                  f'splits: {", ".join(map(repr, sorted(splits, key=str)))}')
        wanted = splits[self.split]
        if not isinstance(wanted, (list, tuple)) or not all(isinstance(x, str) for x in wanted):
            raise AnnotationError(f'ann_file {self.ann_file}: split {self.split!r} must be a list of frame_dir '
                                  f'strings, got {type(wanted).__name__} {str(wanted)[:80]}')
        known = set(ids)
        missing = [x for x in wanted if x not in known]
        if missing:
            raise AnnotationError(f'ann_file {self.ann_file}: split {self.split!r} lists {len(missing)} frame_dir '
                                  f'that are not among the annotations, e.g. {missing[:_MAX_LISTED]}')
        wanted = set(wanted)
        return [i for i, x in enumerate(ids) if x in wanted]

    def _is_deferred(self, ann: dict) -> bool:
        """Whether the sample's keypoints live in a raw file read when the sample is fetched."""
        return 'raw_file' in ann and 'keypoint' not in ann

    # ------------------------------------------------------------------ validation

    def _check_sample(self, index: int, ann: dict, deferred: bool = False, ann_file: Optional[str] = None) -> None:
        """Raise an `AnnotationError` for the first malformed field of ``ann`` (keypoints skipped when deferred)."""
        name = ann.get('frame_dir', ann.get('filename'))
        where = ann_file or self.ann_file

        def fail(field: str, problem: str) -> AnnotationError:
            return sample_error(where, index, name, field, problem)

        self._check_label(ann, fail)
        compressed = 'frame_inds' in ann
        self._check_image_shapes(ann, fail, compressed)
        if deferred or compressed:
            return
        if 'keypoint' not in ann:
            hint = ' (it has raw_file: set memcached=True to fetch it)' if 'raw_file' in ann else ''
            raise fail('keypoint', f'missing{hint}; expected an array [M, T, V, 2|3]')
        kp = ann['keypoint']
        if not isinstance(kp, np.ndarray):
            raise fail('keypoint', f'is a {type(kp).__name__}, expected a numpy array [M, T, V, 2|3]')
        if kp.dtype.kind not in 'iuf':
            raise fail('keypoint', f'has dtype {kp.dtype}, expected a numeric (float32) array')
        if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
            raise fail('keypoint', f'has shape {kp.shape} but expected [M, T, V, 2|3] (people, frames, joints, '
                       'coordinates)')
        self._check_finite(kp, 'keypoint', fail)
        checks.check_people(kp, fail)
        if kp.shape[-1] == 2 and 'img_shape' not in ann:
            checks.check_image_shape(ann, 'img_shape', fail, required=True)
        if 'keypoint_score' in ann:
            score = ann['keypoint_score']
            if not isinstance(score, np.ndarray) or score.dtype.kind not in 'iuf':
                raise fail('keypoint_score', f'is {type(score).__name__} of dtype {getattr(score, "dtype", None)}, '
                           'expected a numeric numpy array [M, T, V]')
            if score.shape != kp.shape[:3]:
                raise fail('keypoint_score', f'has shape {score.shape} but keypoint has shape {kp.shape}; expected '
                           f'[M, T, V] = {kp.shape[:3]}')
            self._check_finite(score, 'keypoint_score', fail)
            checks.check_scores(score, fail)
        if 'total_frames' not in ann:
            raise fail('total_frames', f'missing; expected the number of frames ({kp.shape[1]} in keypoint)')
        total = ann['total_frames']
        if not is_int(total):
            raise fail('total_frames', f'is {total!r} ({type(total).__name__}), expected an int')
        if total != kp.shape[1]:
            raise fail('total_frames', f'is {total} but keypoint has {kp.shape[1]} frames (shape {kp.shape})')
        if total < 1:
            raise fail('total_frames', 'is 0: a sample needs at least one frame')
        if self.box_thr is not None and 'box_score' in ann:
            box = np.asarray(ann['box_score'])
            if box.shape != kp.shape[:2]:
                raise fail('box_score', f'has shape {box.shape} but expected [M, T] = {kp.shape[:2]}')

    @staticmethod
    def _check_image_shapes(ann: dict, fail, compressed: bool) -> None:
        """``img_shape`` / ``original_shape`` are ``(h, w)``; compressed (2D) samples must have ``img_shape``."""
        checks.check_image_shape(ann, 'img_shape', fail, required=compressed)
        checks.check_image_shape(ann, 'original_shape', fail, required=False)

    @staticmethod
    def _check_finite(arr: np.ndarray, field: str, fail) -> None:
        if arr.dtype.kind != 'f' or np.isfinite(arr).all():
            return
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise fail(field, f'has {n_nan} NaN and {n_inf} inf values (of {arr.size}); mark missing joints with '
                   'coordinates 0 and score 0 instead')

    def _check_label(self, ann: dict, fail) -> None:
        if 'label' not in ann:
            raise fail('label', 'missing; every sample needs its class index')
        label = ann['label']
        if self.multi_class:
            if not isinstance(label, (list, tuple, np.ndarray)) or not all(is_int(x) for x in label):
                raise fail('label', f'is {label!r}, expected a list of int class indices (multi_class=True)')
            values = list(label)
        else:
            if not is_int(label):
                raise fail('label', f'is {label!r} ({type(label).__name__}), expected an int class index')
            values = [label]
        for value in values:
            if self.num_classes is not None and not 0 <= value < self.num_classes:
                raise fail('label', f'is {value}, outside [0, {self.num_classes}) (num_classes={self.num_classes})')
            if value < 0:
                raise fail('label', f'is {value}; class indices must be >= 0')

    # ------------------------------------------------------------------ filters

    def _valid_fraction(self, index: int, ann: dict) -> float:
        """Fraction of the sample's frames that count as valid for ``valid_ratio``."""
        name = ann.get('frame_dir', ann.get('filename'))
        valid = ann.get('valid')
        count = None
        if isinstance(valid, dict) and self.box_thr is not None:
            matches = [k for k in valid if isinstance(k, (int, float)) and np.isclose(k, self.box_thr)]
            if not matches:
                raise sample_error(self.ann_file, index, name, 'valid',
                                   f'has no entry for box_thr={self.box_thr}; available: {sorted(valid)}')
            count = valid[matches[0]]
        elif valid is not None and not isinstance(valid, dict):
            count = valid
        if count is None:
            if 'keypoint' not in ann:
                raise sample_error(self.ann_file, index, name, 'valid',
                                   'missing: valid_ratio needs it for samples whose keypoints are in raw_file')
            present = np.abs(ann['keypoint']).sum(axis=(2, 3)) > 0
            mask = self._box_mask(ann)
            if mask is not None:
                present &= mask
            count = int(present.any(axis=0).sum())
        total = ann.get('total_frames')
        if not is_int(total) or total < 1:
            raise sample_error(self.ann_file, index, name, 'total_frames',
                               f'is {total!r}; valid_ratio needs a positive int')
        return float(count) / total

    def _box_mask(self, ann: dict) -> Optional[np.ndarray]:
        """``[M, T]`` bool mask of the people / frames whose box score passes ``box_thr`` (None when unused)."""
        if self.box_thr is None or 'box_score' not in ann:
            return None
        return np.asarray(ann['box_score']) >= self.box_thr

    def _repeat_by_class(self) -> None:
        prob = self.class_prob
        if isinstance(prob, dict):
            try:
                table = {int(k): v for k, v in prob.items()}
            except (TypeError, ValueError) as e:
                raise ValueError(f'PoseDataset({self.ann_file}): class_prob keys must be class indices') from e
        elif isinstance(prob, (list, tuple, np.ndarray)):
            table = dict(enumerate(prob))
        else:
            raise TypeError(f'PoseDataset({self.ann_file}): class_prob must be a list or a dict, '
                            f'got {type(prob).__name__}')
        for cls, mult in table.items():
            if not isinstance(mult, (int, float, np.integer, np.floating)) or not mult >= 1:
                raise ValueError(f'PoseDataset({self.ann_file}): class_prob[{cls}] is {mult!r}; multipliers must be '
                                 'numbers >= 1')
        is_list = not isinstance(prob, dict)

        def multiplier(label) -> float:
            classes = list(label) if self.multi_class else [label]
            for c in classes:
                if is_list and c not in table:
                    raise ValueError(f'PoseDataset({self.ann_file}): class_prob has {len(table)} entries but label '
                                     f'{c} occurs; give one multiplier per class')
            return max(float(table.get(c, 1.0)) for c in classes)

        rng = np.random.default_rng(self.class_prob_seed)
        infos, indices = [], []
        for info, index in zip(self.video_infos, self.file_indices):
            mult = multiplier(info['label'])
            times = int(mult) + int(rng.random() < mult - int(mult))
            infos.extend([info] * times)
            indices.extend([index] * times)
        get_root_logger().info(f'{self.ann_file}: class_prob repeats {len(self.video_infos)} samples into '
                               f'{len(infos)}')
        self.video_infos, self.file_indices = infos, indices

    # ------------------------------------------------------------------ samples

    def _fetch_pack(self, idx: int, results: dict) -> dict:
        """The fields sample ``idx`` keeps in ``raw_file`` (through memcached when enabled), validated."""
        merged = self._raw_reader.fetch(results, self.ann_file)
        where = f'{self.ann_file} (raw_file {results["raw_file"]})'
        if compressed_pose.is_compressed(merged):
            compressed_pose.check_compressed(where, self.file_indices[idx], merged, self.box_thr)
        else:
            self._check_sample(self.file_indices[idx], merged, ann_file=where)
        return merged

    def load_sample(self, idx: int) -> dict:
        """A private copy of sample ``idx`` with its memcached fields fetched and ``box_thr`` applied."""
        results = super().load_sample(idx)
        if 'keypoint' not in results and 'raw_file' in results:
            results = self._fetch_pack(idx, results)
        if compressed_pose.is_compressed(results):  # DecompressPose turns the rows into arrays
            return compressed_pose.apply_box_thr(results, self.box_thr)
        mask = self._box_mask(results)
        results.pop('box_score', None)
        if mask is not None and not mask.all():
            keep = mask.any(axis=1)
            keep[np.argmax(keep)] = True  # at least one person stays
            for field in ('keypoint', 'keypoint_score'):
                if field in results:
                    arr = results[field]
                    blanked = np.where(mask.reshape(mask.shape + (1, ) * (arr.ndim - 2)), arr, 0).astype(arr.dtype)
                    results[field] = blanked[keep]
            results['anno_inds'] = mask[keep]
        return results
