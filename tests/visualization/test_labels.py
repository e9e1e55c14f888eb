"""load_scores: a crafted scores file is refused with advice that fits a scores file."""
import pickle

import numpy as np
import pytest

from pyskl.datasets import AnnotationError
from pyskl.visualization.labels import load_scores


class _Payload:
    def __reduce__(self):
        return (print, ('this must never run', ))


def test_a_crafted_scores_file_is_refused_with_advice_for_scores(tmp_path):
    path = tmp_path / 'scores.pkl'
    path.write_bytes(pickle.dumps([np.zeros(3), _Payload()]))
    with pytest.raises(AnnotationError) as err:
        load_scores(str(path))
    message = str(err.value)
    assert str(path) in message and 'builtins.print' in message
    assert 'unsafe_pickle' not in message and 'list of numpy arrays' in message
