"""One check of class-id lists for the data side and the models: the same inputs refused with the same words."""
import numpy as np
import pytest
import torch

from pyskl.models.recognizers import restrict_to_classes
from pyskl.utils.validation import check_class_subset, is_int


def test_is_int_takes_python_and_numpy_ints_but_no_bools_or_floats():
    assert is_int(3) and is_int(np.int64(3)) and is_int(np.uint8(0))
    assert not any(is_int(v) for v in (True, np.bool_(False), 3.0, '3', None))


def test_valid_lists_come_back_as_python_ints():
    ids = check_class_subset(np.array([4, 0, 2]), num_classes=5)
    assert ids == [4, 0, 2] and all(type(v) is int for v in ids)
    assert check_class_subset(None) is None


@pytest.mark.parametrize('subset, error, words', [
    ([], ValueError, 'is empty'),
    ('0,1', TypeError, 'list of 0-based class ids'),
    ({0: 1}, TypeError, 'list of 0-based class ids'),
    ([1, 2.0], TypeError, 'must hold ints'),
    ([True], TypeError, 'must hold ints'),
    ([1, -1], ValueError, r'holds \[-1\], outside \[0, 5\)'),
    ([1, 1], ValueError, 'more than once'),
    ([2, 5], ValueError, r'holds \[5\], outside \[0, 5\)'),
])
def test_the_dataset_and_the_scoring_refuse_alike(subset, error, words):
    with pytest.raises(error, match=words):
        check_class_subset(subset, 5, name='class_subset')
    with pytest.raises(error, match=words):  # the zero-shot scoring of a recognizer goes through the same check
        restrict_to_classes(torch.zeros(2, 5), subset)
