"""Classification metrics over score matrices: top-k accuracy, mean class accuracy, confusion matrix, mAP.

Conventions shared by every function here:

- ``scores`` is ``[N, C]`` (one row of class scores per sample) given as a 2D array or a list of 1D arrays.
- NaN scores count as the lowest possible score, so a diverged model scores 0 instead of crashing the evaluation.
- Ties are broken towards the lower class index, as ``np.argmax`` does: with equal scores for classes 2 and 5,
  class 2 is ranked first.

All metrics are returned as plain Python floats.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

ArrayLike = Union[np.ndarray, Sequence]

__all__ = ['top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix', 'mean_average_precision',
           'seen_unseen_accuracy']


def _score_matrix(scores: ArrayLike) -> np.ndarray:
    """Stack ``scores`` into a float64 ``[N, C]`` matrix with NaN replaced by ``-inf``."""
    if isinstance(scores, np.ndarray):
        mat = scores
    else:
        rows = [np.asarray(s) for s in scores]
        shapes = {r.shape for r in rows}
        if len(shapes) > 1:
            raise ValueError(f'every score row must have the same shape, got shapes {sorted(shapes)}')
        mat = np.stack(rows) if rows else np.zeros((0, 0))
    mat = np.asarray(mat, dtype=np.float64)
    if mat.ndim != 2:
        raise ValueError(f'scores must be [N, num_classes], got shape {mat.shape}')
    return np.where(np.isnan(mat), -np.inf, mat)


def _single_labels(labels: ArrayLike, num_samples: int) -> np.ndarray:
    """Labels as an int64 vector of length ``num_samples``."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f'labels must be a 1D sequence of class indices, got shape {arr.shape}')
    if arr.size and arr.dtype.kind not in 'iu':
        raise TypeError(f'labels must be integers, got dtype {arr.dtype}')
    if arr.shape[0] != num_samples:
        raise ValueError(f'got {num_samples} score rows but {arr.shape[0]} labels')
    return arr.astype(np.int64)


def _label_ranks(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0-based rank of each sample's true class among its scores (``C`` when the label is not a column)."""
    num, num_classes = scores.shape
    inside = (labels >= 0) & (labels < num_classes)
    safe = np.where(inside, labels, 0)
    label_score = scores[np.arange(num), safe][:, None]
    higher = (scores > label_score).sum(axis=1)
    tied_before = ((scores == label_score) & (np.arange(num_classes)[None] < safe[:, None])).sum(axis=1)
    return np.where(inside, higher + tied_before, num_classes)


def top_k_accuracy(scores: ArrayLike, labels: ArrayLike, topk: Union[int, Sequence[int]] = (1, )) -> List[float]:
    """Fraction of samples whose true class is among the ``k`` highest scores, for each ``k`` in ``topk``.

    Args:
        scores: ``[N, C]`` class scores.
        labels: ``[N]`` true class indices.
        topk: one ``k`` or several.

    Returns:
        list[float]: one accuracy in [0, 1] per ``k``, in the order of ``topk``.
    """
    mat = _score_matrix(scores)
    lab = _single_labels(labels, mat.shape[0])
    ks = (topk, ) if isinstance(topk, (int, np.integer)) else tuple(topk)
    for k in ks:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f'every k in topk must be a positive int, got {topk!r}')
    if mat.shape[0] == 0:
        raise ValueError('top_k_accuracy needs at least one sample')
    ranks = _label_ranks(mat, lab)
    return [float(np.mean(ranks < k)) for k in ks]


def mean_class_accuracy(scores: ArrayLike, labels: ArrayLike) -> float:
    """Mean over the classes present in ``labels`` of the per-class recall of the arg-max prediction.

    A class that never occurs in ``labels`` does not enter the mean, even when it is predicted.

    Args:
        scores: ``[N, C]`` class scores.
        labels: ``[N]`` true class indices.
    """
    mat = _score_matrix(scores)
    lab = _single_labels(labels, mat.shape[0])
    if mat.shape[0] == 0:
        raise ValueError('mean_class_accuracy needs at least one sample')
    pred = mat.argmax(axis=1)
    classes, inverse = np.unique(lab, return_inverse=True)
    hits = np.bincount(inverse, weights=(pred == lab).astype(np.float64), minlength=len(classes))
    counts = np.bincount(inverse, minlength=len(classes))
    return float(np.mean(hits / counts))


def confusion_matrix(y_pred: ArrayLike,
                     y_real: ArrayLike,
                     normalize: Optional[str] = None,
                     num_classes: Optional[int] = None) -> np.ndarray:
    """Confusion matrix with true classes as rows and predicted classes as columns.

    Without ``num_classes`` the rows and columns are the sorted union of the labels in ``y_pred`` and ``y_real``
    (as in mmaction2); with it they are ``0 .. num_classes - 1``.

    Args:
        y_pred: ``[N]`` predicted class indices.
        y_real: ``[N]`` true class indices.
        normalize: None (counts, int64), ``'true'`` (each row sums to 1), ``'pred'`` (each column sums to 1) or
            ``'all'`` (the whole matrix sums to 1). Empty rows / columns stay 0.
        num_classes: fixed number of classes.

    Returns:
        np.ndarray: ``[K, K]`` matrix.
    """
    if normalize not in (None, 'true', 'pred', 'all'):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    pred = np.asarray(y_pred)
    real = np.asarray(y_real)
    for name, arr in (('y_pred', pred), ('y_real', real)):
        if arr.ndim != 1:
            raise ValueError(f'{name} must be 1D, got shape {arr.shape}')
        if arr.size and arr.dtype.kind not in 'iu':
            raise TypeError(f'{name} must hold integers, got dtype {arr.dtype}')
    if pred.shape != real.shape:
        raise ValueError(f'y_pred has {pred.shape[0]} entries but y_real has {real.shape[0]}')
    pred = pred.astype(np.int64)
    real = real.astype(np.int64)
    if num_classes is None:
        classes = np.unique(np.concatenate([pred, real]))
        pred_idx = np.searchsorted(classes, pred)
        real_idx = np.searchsorted(classes, real)
        size = len(classes)
    else:
        both = np.concatenate([pred, real])
        if both.size and (both.min() < 0 or both.max() >= num_classes):
            raise ValueError(f'labels must lie in [0, {num_classes}), got values from {both.min()} to {both.max()}')
        pred_idx, real_idx, size = pred, real, num_classes
    counts = np.bincount(real_idx * size + pred_idx, minlength=size * size).reshape(size, size)
    if normalize is None:
        return counts.astype(np.int64)
    counts = counts.astype(np.float64)
    if normalize == 'true':
        denom = counts.sum(axis=1, keepdims=True)
    elif normalize == 'pred':
        denom = counts.sum(axis=0, keepdims=True)
    else:
        denom = np.full((1, 1), counts.sum())
    return np.divide(counts, denom, out=np.zeros_like(counts), where=denom > 0)


def _multi_hot(labels: Union[ArrayLike, Sequence[Sequence[int]]], num_samples: int, num_classes: int) -> np.ndarray:
    """Multi-label targets as a ``[N, C]`` bool matrix.

    A 2D array is read as a 0/1 matrix; a list of sequences is read as per-sample lists of positive class indices.
    """
    if isinstance(labels, np.ndarray) and labels.ndim == 2:
        mat = labels
    elif len(labels) and all(isinstance(x, (list, tuple, np.ndarray)) and np.ndim(x) == 1 for x in labels):
        mat = np.zeros((len(labels), num_classes))
        for i, idx in enumerate(labels):
            idx = np.asarray(idx, dtype=np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
                raise ValueError(f'sample {i}: class indices {idx.tolist()} outside [0, {num_classes})')
            mat[i, idx] = 1
    else:
        raise ValueError('labels for mean_average_precision must be a [N, C] 0/1 matrix or a list of index lists')
    if mat.shape != (num_samples, num_classes):
        raise ValueError(f'labels have shape {mat.shape} but scores have shape {(num_samples, num_classes)}')
    return (np.asarray(mat) > 0)


def _average_precision(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the precision-recall step curve, one step per distinct score (ties form one step)."""
    order = np.argsort(-score, kind='stable')
    ranked = score[order]
    true_pos = np.cumsum(positive[order])
    # the last position of each group of equal scores is where a threshold ends
    ends = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), len(ranked) - 1]
    tp = true_pos[ends].astype(np.float64)
    precision = tp / (ends + 1)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def mean_average_precision(scores: ArrayLike, labels: Union[ArrayLike, Sequence[Sequence[int]]]) -> float:
    """Mean over classes of the average precision of ranking the samples by that class's score.

    Classes with no positive sample are left out of the mean.

    Args:
        scores: ``[N, C]`` class scores.
        labels: ``[N, C]`` 0/1 targets, or per-sample lists of positive class indices.
    """
    mat = _score_matrix(scores)
    targets = _multi_hot(labels, *mat.shape)
    aps = [_average_precision(mat[:, c], targets[:, c]) for c in range(mat.shape[1]) if targets[:, c].any()]
    if not aps:
        raise ValueError('mean_average_precision needs at least one positive label')
    return float(np.mean(aps))


def seen_unseen_accuracy(scores: ArrayLike, labels: ArrayLike, unseen_classes: Sequence[int],
                         average: str = 'sample') -> Dict[str, float]:
    """Generalised zero-shot accuracy: top-1 over *all* classes, reported separately for seen and unseen classes.

    Every sample is classified by the arg-max over all ``C`` classes (a seen-class sample predicted as an unseen
    class is wrong, and the other way round). ``seen_acc`` is the accuracy on the samples whose true class is not
    in ``unseen_classes``, ``unseen_acc`` the accuracy on the others, and ``harmonic_mean`` is
    ``2 * seen_acc * unseen_acc / (seen_acc + unseen_acc)`` (0 when both are 0), the usual summary of the
    generalised zero-shot setting.

    Args:
        scores: ``[N, C]`` class scores.
        labels: ``[N]`` true class indices (original ids).
        unseen_classes: the 0-based ids of the classes left out of training.
        average: ``'sample'`` (fraction of samples) or ``'class'`` (mean of the per-class recalls, as
            `mean_class_accuracy`), within each group.

    Returns:
        dict[str, float]: ``seen_acc``, ``unseen_acc`` and ``harmonic_mean``.
    """
    if average not in ('sample', 'class'):
        raise ValueError(f"seen_unseen_accuracy average={average!r}: use 'sample' or 'class'")
    mat = _score_matrix(scores)
    lab = _single_labels(labels, mat.shape[0])
    unseen = np.asarray(list(unseen_classes), dtype=np.int64).reshape(-1)
    if unseen.size == 0:
        raise ValueError('seen_unseen_accuracy needs the list of unseen classes (unseen_classes=[...])')
    is_unseen = np.isin(lab, unseen)
    groups = {}
    for name, member in (('seen_acc', ~is_unseen), ('unseen_acc', is_unseen)):
        if not member.any():
            which = 'unseen' if name == 'unseen_acc' else 'seen'
            raise ValueError(f'seen_unseen_accuracy: no sample of a {which} class among the {len(lab)} samples; it '
                             'needs test samples of both seen and unseen classes (generalised zero-shot). For '
                             'unseen classes only, use top_k_accuracy with test_cfg class_subset')
        if average == 'sample':
            groups[name] = float(np.mean(mat[member].argmax(axis=1) == lab[member]))
        else:
            groups[name] = mean_class_accuracy(mat[member], lab[member])
    seen, unseen_acc = groups['seen_acc'], groups['unseen_acc']
    total = seen + unseen_acc
    groups['harmonic_mean'] = float(2 * seen * unseen_acc / total) if total > 0 else 0.0
    return groups
