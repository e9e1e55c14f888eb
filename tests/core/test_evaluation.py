import numpy as np
import pytest

import pyskl.core
from pyskl.core import confusion_matrix, mean_average_precision, mean_class_accuracy, top_k_accuracy


def _loop_top_k(scores, labels, k):
    hits = 0
    for row, label in zip(scores, labels):
        # rank by score, ties towards the lower class index
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))
        hits += label in order[:k]
    return hits / len(labels)


def _loop_mean_class_accuracy(scores, labels):
    recalls = []
    for c in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == c]
        recalls.append(sum(int(np.argmax(scores[i]) == c) for i in members) / len(members))
    return sum(recalls) / len(recalls)


def _loop_average_precision(score, positive):
    # one precision-recall point per distinct threshold, from high to low
    total = sum(positive)
    ap, prev_recall = 0.0, 0.0
    for thr in sorted(set(score.tolist()), reverse=True):
        chosen = [i for i in range(len(score)) if score[i] >= thr]
        tp = sum(positive[i] for i in chosen)
        recall = tp / total
        ap += (recall - prev_recall) * tp / len(chosen)
        prev_recall = recall
    return ap


@pytest.mark.parametrize('integer_scores', [False, True])
def test_top_k_accuracy_matches_loop(integer_scores):
    rng = np.random.default_rng(0)
    num, num_classes = 60, 7
    # integer scores in a small range produce many ties
    scores = rng.integers(0, 3, (num, num_classes)).astype(float) if integer_scores else rng.random((num, num_classes))
    labels = rng.integers(0, num_classes, num)
    got = top_k_accuracy(scores, labels, topk=(1, 2, 3, 7))
    assert got == pytest.approx([_loop_top_k(scores, labels, k) for k in (1, 2, 3, 7)])
    assert got[-1] == 1.0
    assert all(type(x) is float for x in got)


def test_top_k_accuracy_ties_go_to_lower_index():
    scores = np.array([[1., 1., 0.], [1., 1., 0.]])
    assert top_k_accuracy(scores, [0, 1], topk=(1, 2)) == [0.5, 1.0]
    # top-1 agrees with argmax
    assert top_k_accuracy(scores, scores.argmax(1), topk=1) == [1.0]


def test_top_k_accuracy_accepts_list_of_rows_and_int_topk():
    rows = [np.array([0.1, 0.9]), np.array([0.8, 0.2]), np.array([0.3, 0.7])]
    assert top_k_accuracy(rows, [1, 1, 1], 1) == [pytest.approx(2 / 3)]


def test_top_k_accuracy_nan_is_lowest_score():
    scores = np.array([[np.nan, 0.5, 0.1], [0.2, np.nan, 0.9]])
    # sample 0: its label's score is NaN, so it ranks last; sample 1: class 2 wins despite the NaN
    assert top_k_accuracy(scores, [0, 2], topk=(1, 2)) == [0.5, 0.5]


def test_top_k_accuracy_bad_arguments():
    scores = np.zeros((3, 4))
    with pytest.raises(ValueError, match='3 score rows but 2 labels'):
        top_k_accuracy(scores, [0, 1])
    with pytest.raises(ValueError, match='positive int'):
        top_k_accuracy(scores, [0, 1, 2], topk=(0, ))
    with pytest.raises(ValueError, match=r'\[N, num_classes\]'):
        top_k_accuracy(np.zeros(4), [0])
    with pytest.raises(ValueError, match='same shape'):
        top_k_accuracy([np.zeros(3), np.zeros(4)], [0, 1])


def test_top_k_accuracy_label_outside_columns_is_a_miss():
    assert top_k_accuracy(np.array([[0.5, 0.5]]), [5], topk=(1, 2)) == [0.0, 0.0]


def test_mean_class_accuracy_matches_loop():
    rng = np.random.default_rng(1)
    scores = rng.random((80, 6))
    labels = rng.integers(0, 5, 80)  # class 5 never occurs in labels
    got = mean_class_accuracy(scores, labels)
    assert type(got) is float
    assert got == pytest.approx(_loop_mean_class_accuracy(scores, labels))


def test_mean_class_accuracy_ignores_classes_absent_from_labels():
    # class 0: 2 of 2 right; class 1: 0 of 1 right (predicted as class 2, which has no sample)
    scores = np.array([[1., 0., 0.], [1., 0., 0.], [0., 0., 1.]])
    assert mean_class_accuracy(scores, [0, 0, 1]) == pytest.approx(0.5)
    # plain accuracy would be 2 / 3: the mean is over classes, not samples
    assert top_k_accuracy(scores, [0, 0, 1])[0] == pytest.approx(2 / 3)


def test_confusion_matrix_matches_loop():
    rng = np.random.default_rng(2)
    pred = rng.integers(0, 5, 50)
    real = rng.integers(1, 6, 50)
    mat = confusion_matrix(pred, real)
    classes = sorted(set(pred.tolist()) | set(real.tolist()))
    expected = np.zeros((len(classes), len(classes)), dtype=int)
    for p, r in zip(pred, real):
        expected[classes.index(r), classes.index(p)] += 1
    np.testing.assert_array_equal(mat, expected)
    assert mat.dtype == np.int64

    # class 0 is never real and class 5 never predicted: their row / column stays 0
    np.testing.assert_allclose(confusion_matrix(pred, real, 'true').sum(axis=1), [0, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(confusion_matrix(pred, real, 'pred').sum(axis=0), [1, 1, 1, 1, 1, 0])
    row_sums = np.maximum(expected.sum(axis=1, keepdims=True), 1)
    np.testing.assert_allclose(confusion_matrix(pred, real, 'true'), expected / row_sums)
    np.testing.assert_allclose(confusion_matrix(pred, real, 'all'), expected / 50)


def test_confusion_matrix_fixed_size_and_empty_rows():
    mat = confusion_matrix([0, 0, 2], [0, 2, 2], num_classes=4)
    assert mat.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    norm = confusion_matrix([0, 0, 2], [0, 2, 2], normalize='true', num_classes=4)
    assert norm[1].tolist() == [0, 0, 0, 0]  # no sample of class 1: stays 0, no division by zero
    assert norm[2].tolist() == [0.5, 0, 0.5, 0]
    with pytest.raises(ValueError, match=r'\[0, 4\)'):
        confusion_matrix([0, 5], [0, 1], num_classes=4)
    with pytest.raises(ValueError, match='normalize'):
        confusion_matrix([0], [0], normalize='rows')
    with pytest.raises(TypeError, match='integers'):
        confusion_matrix([0.5], [0])


@pytest.mark.parametrize('integer_scores', [False, True])
def test_mean_average_precision_matches_loop(integer_scores):
    rng = np.random.default_rng(3)
    num, num_classes = 40, 5
    scores = rng.integers(0, 4, (num, num_classes)).astype(float) if integer_scores else rng.random((num, num_classes))
    targets = rng.random((num, num_classes)) < 0.3
    targets[:, 4] = False  # a class with no positive is left out
    expected = np.mean([_loop_average_precision(scores[:, c], targets[:, c]) for c in range(4)])
    got = mean_average_precision(scores, targets.astype(int))
    assert type(got) is float
    assert got == pytest.approx(expected)


def test_mean_average_precision_index_lists_and_perfect_ranking():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.7], [0.1, 0.3, 0.9]])
    assert mean_average_precision(scores, [[0], [1], [2]]) == pytest.approx(1.0)
    # class 1 ranked second for its only positive: AP 1/2; classes 0 and 2 perfect
    assert mean_average_precision(scores, [[0], [2], [1, 2]]) == pytest.approx((1 + 0.5 + 1) / 3)
    with pytest.raises(ValueError, match='outside'):
        mean_average_precision(scores, [[0], [3], [1]])
    with pytest.raises(ValueError, match='at least one positive'):
        mean_average_precision(scores, np.zeros((3, 3)))


def test_core_exports():
    for name in ('top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix', 'mean_average_precision'):
        assert name in pyskl.core.__all__
        assert callable(getattr(pyskl.core, name))
