"""Labels and class sentences for the analysis tools: the test set's labels, the scores of a test run."""
import json
from typing import List, Optional

import numpy as np

from ..datasets.pickle_io import read_pickle as _read_pickle
from ..utils.class_lists import load_class_list


def class_names(cfg, num_classes: int, class_list: Optional[str] = None) -> List[str]:
    """The class sentences: ``class_list`` (a CSV), else the model's ``text_lists``, else ``class <i>``."""
    source = class_list or cfg.get('model', {}).get('text_lists')
    if source is None:
        return [f'class {i}' for i in range(num_classes)]
    names = load_class_list(source)
    if len(names) != num_classes:
        raise ValueError(f'the class list {source} has {len(names)} sentences but the scores have {num_classes} '
                         'classes; give the list of this dataset with --class-list')
    return names


def test_labels(cfg) -> np.ndarray:
    """The label of every sample of ``cfg.data.test``, in dataset order (the order of tools/test.py --out)."""
    from ..datasets import build_dataset
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    labels = np.asarray(dataset.labels)
    if labels.ndim != 1:
        raise ValueError('the analysis tools need one label per sample (multi-label test sets are not supported)')
    return labels.astype(np.int64)


def load_scores(path: str, num_samples: Optional[int] = None, what: str = 'scores file') -> np.ndarray:
    """Per-sample class scores [N, C] from a tools/test.py ``--out`` file (.pkl: a list of [C] arrays, or .json)."""
    if path.lower().endswith('.json'):
        with open(path) as f:
            data = json.load(f)
    else:
        data = _read_pickle(path, what=what, expected='a tools/test.py --out scores pickle',
                            trust_hint='convert it to a list of numpy arrays in a trusted Python session')
    try:
        scores = np.stack([np.asarray(row, dtype=np.float64) for row in data])
    except (TypeError, ValueError) as e:
        raise ValueError(f'{what} {path}: expected one score array per sample of equal length (tools/test.py '
                         f'--out scores.pkl), got {type(data).__name__}: {e}') from e
    if scores.ndim != 2:
        raise ValueError(f'{what} {path}: expected [N, num_classes] scores, got shape {scores.shape}')
    if num_samples is not None and len(scores) != num_samples:
        raise ValueError(f'{what} {path} has {len(scores)} samples but the test set has {num_samples}; the scores '
                         'must come from tools/test.py on the same config and split')
    return scores
