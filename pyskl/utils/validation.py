"""Checks of values that both the data side and the models validate: integers, and lists of class ids."""
from typing import Optional, Sequence

import numpy as np

__all__ = ['is_int', 'check_class_subset']


def is_int(value) -> bool:
    """A Python or numpy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_class_subset(class_subset: Optional[Sequence[int]], num_classes: Optional[int] = None,
                       name: str = 'class_subset') -> Optional[list]:
    """Validate a list of distinct 0-based class ids and return it as a list of Python ints (None stays None).

    Used by `PoseDataset` (which samples to keep) and by the zero-shot scoring of the recognizers (which scores to
    keep), so both refuse the same inputs with the same words.

    Args:
        class_subset (Sequence[int] | None): the classes, e.g. ``[10, 11, 19, 26, 56]``.
        num_classes (int, optional): every id must be below it.
        name (str): what the list is called in error messages (e.g. ``'PoseDataset(f.pkl): class_subset'``).
    """
    if class_subset is None:
        return None
    if isinstance(class_subset, (str, bytes, dict)) or not isinstance(class_subset, (list, tuple, np.ndarray)):
        raise TypeError(f'{name} must be a list of 0-based class ids (e.g. [10, 11, 19]), got {class_subset!r}')
    ids = list(class_subset)
    if not ids:
        raise ValueError(f'{name} is empty; give the class ids to keep (or None for all classes)')
    wrong = [v for v in ids if not is_int(v)]
    if wrong:
        raise TypeError(f'{name} must hold ints (0-based class ids: NTU action A11 is 10), got {ids}')
    ids = [int(v) for v in ids]
    bad = [v for v in ids if v < 0 or (num_classes is not None and v >= num_classes)]
    if bad:
        limit = f'[0, {num_classes})' if num_classes is not None else '[0, inf)'
        raise ValueError(f'{name} holds {bad}, outside {limit}')
    twice = sorted(v for v in set(ids) if ids.count(v) > 1)
    if twice:
        raise ValueError(f'{name} lists some classes more than once (twice or more: {twice}): {ids}')
    return ids
