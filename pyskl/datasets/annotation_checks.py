"""Checks of annotation samples that `PoseDataset` runs when it is built, so that bad input fails there.

Each per-sample check takes ``fail(field, problem) -> AnnotationError`` (see `errors.sample_error`), which names the
file and the sample; the file-level checks build their own messages. The documented choices:

- ``img_shape`` is required for 2D samples (``keypoint [..., 2]``: the heatmap and crop transforms read it) and,
  when present, must be two positive ints ``(h, w)``; 3D samples may omit it.
- A sample with no person (``M = 0``) is refused: it would train on an all-zero input.
- A negative ``keypoint_score`` is refused (scores are confidences in [0, 1]; a missing joint has score 0).
- Two samples with the same ``frame_dir`` are refused: splits and results name samples by it.
- Every sample must have the same number of joints V (and of coordinates): a batch stacks them.
"""
from collections import Counter
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..utils.validation import is_int
from .errors import AnnotationError, sample_error

Fail = Callable[[str, str], AnnotationError]
_MAX_LISTED = 5


def check_image_shape(ann: dict, field: str, fail: Fail, required: bool) -> None:
    """``ann[field]`` is ``(h, w)``: two positive ints (tuple, list or int array); absent only if not ``required``."""
    if field not in ann:
        if required:
            raise fail(field, 'missing; 2D samples need the frame size (h, w) in pixels, e.g. (1080, 1920)')
        return
    shape = ann[field]
    if isinstance(shape, np.ndarray):
        shape = shape.tolist() if shape.ndim == 1 else shape
    if not isinstance(shape, (tuple, list)) or len(shape) != 2 or not all(is_int(x) for x in shape):
        raise fail(field, f'is {shape!r} ({type(ann[field]).__name__}); expected (h, w): two ints, e.g. (1080, 1920)')
    if min(shape) < 1:
        raise fail(field, f'is {tuple(int(x) for x in shape)}; height and width must be positive')


def check_people(kp: np.ndarray, fail: Fail) -> None:
    """Refuse a sample with no person (``keypoint`` ``[0, T, V, C]``)."""
    if kp.shape[0] == 0:
        raise fail('keypoint', f'has shape {kp.shape}: no person (M = 0); remove the sample, or keep one person with '
                   'all-zero keypoints and scores if the clip must stay')


def check_scores(score: np.ndarray, fail: Fail) -> None:
    """Refuse negative keypoint scores."""
    if score.size and score.min() < 0:
        count = int((score < 0).sum())
        raise fail('keypoint_score', f'has {count} negative values (minimum {float(score.min()):g}); scores are '
                   'confidences >= 0 and a missing joint has score 0')


def check_unique_ids(ann_file: str, ids: Sequence[str]) -> None:
    """Refuse a file in which two samples share a ``frame_dir``; the message counts them and lists some."""
    counts = Counter(ids)
    repeated = [name for name, n in counts.items() if n > 1]
    if not repeated:
        return
    first = {}
    examples = []
    for index, name in enumerate(ids):
        if counts[name] > 1:
            if name in first and len(examples) < _MAX_LISTED:
                examples.append(f'sample {index} ({name!r}) repeats sample {first[name]}')
            first.setdefault(name, index)
    extra = sum(counts[name] - 1 for name in repeated)
    raise AnnotationError(f"ann_file {ann_file}: field 'frame_dir': {extra} samples repeat the frame_dir of another "
                          f'({len(repeated)} distinct names), e.g. {"; ".join(examples)}; frame_dir must identify one '
                          'sample (splits and results use it): remove or rename the copies')


def joint_layout(ann: dict) -> Optional[Tuple[int, int]]:
    """``(V, C)`` of a sample's keypoints ``[M, T, V, C]`` (or ``[N, V, C]`` in the compressed ``frame_inds`` form)."""
    kp = ann.get('keypoint')
    if not isinstance(kp, np.ndarray):
        return None
    if 'frame_inds' in ann:
        return tuple(kp.shape[1:]) if kp.ndim == 3 else None
    return tuple(kp.shape[2:]) if kp.ndim == 4 else None


def check_joint_layouts(ann_file: str, samples: Iterable[Tuple[int, Optional[str], Tuple[int, int]]]) -> None:
    """Refuse samples whose number of joints (or coordinates) differs from that of most samples.

    Args:
        ann_file (str): the annotation file.
        samples: ``(index, frame_dir, (V, C))`` of every checked sample.
    """
    samples = list(samples)
    counts = Counter(layout for _, _, layout in samples)
    if len(counts) < 2:
        return
    common = counts.most_common(1)[0][0]
    odd: List[Tuple[int, Optional[str], Tuple[int, int]]] = [s for s in samples if s[2] != common]
    index, name, (joints, coords) = odd[0]
    per_layout = ', '.join(f'{layout}: {n}' for layout, n in counts.most_common())
    raise sample_error(ann_file, index, name, 'keypoint',
                       f'has V = {joints} joints with C = {coords} coordinates, unlike the most common layout (V, C) = '
                       f'{common}; {len(odd)} of {len(samples)} samples differ (samples per (V, C): {per_layout}). '
                       'Every sample of a dataset must use the same skeleton layout: convert or remove those samples')


def check_label_range(where: str, labels: Sequence, num_classes: int, names: Optional[Sequence] = None) -> None:
    """Every label (or every class of a multi-class label) lies in ``[0, num_classes)``.

    Args:
        where (str): the dataset, for the message (its annotation file).
        labels: the labels in dataset order.
        num_classes (int): the number of classes of the model.
        names: the samples' ``frame_dir``, in the same order, for the message.
    """
    for index, label in enumerate(labels):
        values = np.atleast_1d(np.asarray(label))
        bad = [int(v) for v in values if not 0 <= v < num_classes]
        if bad:
            name = f' ({names[index]!r})' if names is not None else ''
            raise AnnotationError(f"{where}: sample {index}{name}, field 'label': is {bad[0]}, outside "
                                  f'[0, {num_classes}) (num_classes={num_classes}); fix the label or num_classes')
