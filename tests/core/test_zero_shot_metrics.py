"""seen_unseen_accuracy: the generalised zero-shot metric (seen accuracy, unseen accuracy, harmonic mean)."""
import numpy as np
import pytest

from pyskl.core import seen_unseen_accuracy, top_k_accuracy
from pyskl.datasets.base import evaluate_scores


def one_hot(predictions, num_classes=6):
    return np.eye(num_classes)[predictions]


def test_hand_computed_example():
    labels = [0, 0, 1, 4, 4, 5, 5, 5]  # unseen: 4 and 5
    predictions = [0, 4, 1, 4, 0, 5, 5, 4]
    # seen (0 0 1): right, wrong (predicted an unseen class), right -> 2/3; unseen: right, wrong, right, right, wrong
    out = seen_unseen_accuracy(one_hot(predictions), labels, unseen_classes=[4, 5])
    assert out['seen_acc'] == pytest.approx(2 / 3)
    assert out['unseen_acc'] == pytest.approx(3 / 5)
    assert out['harmonic_mean'] == pytest.approx(2 * (2 / 3) * (3 / 5) / (2 / 3 + 3 / 5))
    assert all(type(v) is float for v in out.values())


def test_class_average():
    labels = [0, 0, 0, 0, 1, 4, 4, 5]
    predictions = [0, 0, 0, 0, 2, 4, 4, 0]
    # per class: 0 -> 1.0, 1 -> 0.0 (seen mean 0.5); 4 -> 1.0, 5 -> 0.0 (unseen mean 0.5)
    out = seen_unseen_accuracy(one_hot(predictions), labels, [4, 5], average='class')
    assert out == pytest.approx(dict(seen_acc=0.5, unseen_acc=0.5, harmonic_mean=0.5))
    by_sample = seen_unseen_accuracy(one_hot(predictions), labels, [4, 5])
    assert by_sample['seen_acc'] == pytest.approx(0.8) and by_sample['unseen_acc'] == pytest.approx(2 / 3)


def test_prediction_over_all_classes_not_per_group():
    # a seen-class sample whose highest score is an unseen class counts as wrong, even if its own class ranks
    # first among the seen classes
    scores = np.array([[0.3, 0.1, 0.0, 0.0, 0.6, 0.0], [0.0, 0.0, 0.0, 0.0, 0.9, 0.1]])
    out = seen_unseen_accuracy(scores, [0, 4], [4, 5])
    assert out['seen_acc'] == 0.0 and out['unseen_acc'] == 1.0 and out['harmonic_mean'] == 0.0


def test_perfect_scores_and_consistency_with_top1():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, size=50)
    scores = rng.random((50, 6))
    out = seen_unseen_accuracy(scores, labels, [2, 3])
    unseen = np.isin(labels, [2, 3])
    assert out['seen_acc'] == pytest.approx(top_k_accuracy(scores[~unseen], labels[~unseen], 1)[0])
    assert out['unseen_acc'] == pytest.approx(top_k_accuracy(scores[unseen], labels[unseen], 1)[0])
    perfect = seen_unseen_accuracy(one_hot(labels), labels, [2, 3])
    assert perfect == dict(seen_acc=1.0, unseen_acc=1.0, harmonic_mean=1.0)


def test_nan_scores_do_not_crash():
    scores = one_hot([0, 4])
    scores[1, :] = np.nan
    out = seen_unseen_accuracy(scores, [0, 4], [4])
    assert out['seen_acc'] == 1.0 and out['unseen_acc'] == 0.0 and out['harmonic_mean'] == 0.0


@pytest.mark.parametrize('labels, which', [([4, 5], 'seen'), ([0, 1], 'unseen')])
def test_needs_both_groups(labels, which):
    with pytest.raises(ValueError, match=f'no sample of a {which} class'):
        seen_unseen_accuracy(one_hot([0, 1]), labels, [4, 5])


def test_argument_errors():
    with pytest.raises(ValueError, match='unseen classes'):
        seen_unseen_accuracy(one_hot([0, 4]), [0, 4], [])
    with pytest.raises(ValueError, match="average='mean'"):
        seen_unseen_accuracy(one_hot([0, 4]), [0, 4], [4], average='mean')


def test_evaluate_scores_takes_the_config_keyword():
    """`evaluation=dict(metrics=[...], unseen_classes=[...])` reaches evaluate_scores as a keyword."""
    labels = [0, 4, 1, 5]
    results = list(one_hot([0, 4, 2, 4]))
    out = evaluate_scores(results, labels, ['seen_unseen_accuracy', 'mean_class_accuracy'], logger='silent',
                          unseen_classes=[4, 5], topk=(1, 5))
    assert out['seen_acc'] == 0.5 and out['unseen_acc'] == 0.5 and out['harmonic_mean'] == 0.5
    assert out['mean_class_accuracy'] == 0.5
    with pytest.raises(ValueError, match='one label per sample'):
        evaluate_scores([np.ones(6)], [[0, 4]], 'seen_unseen_accuracy', logger='silent', multi_class=True,
                        unseen_classes=[4])
