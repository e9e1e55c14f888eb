"""Zero-shot data: PoseDataset(class_subset=...) and the seen / unseen evaluation of a dataset."""
import pickle

import numpy as np
import pytest

from pyskl.datasets import build_dataset
from pyskl.datasets.errors import AnnotationError
from pyskl.datasets.pose_dataset import PoseDataset


def make_sample(frame_dir, label, seed=0):
    rng = np.random.default_rng(seed)
    return dict(frame_dir=frame_dir, label=label, total_frames=6, img_shape=(32, 32), original_shape=(32, 32),
                keypoint=(rng.random((1, 6, 17, 2)) * 30 + 1).astype(np.float32),
                keypoint_score=rng.random((1, 6, 17)).astype(np.float32))


@pytest.fixture
def ann_file(tmp_path):
    labels = [0, 3, 1, 2, 3, 0, 4, 1, 2, 4]
    annotations = [make_sample(f'clip{i}', label, seed=i) for i, label in enumerate(labels)]
    data = dict(split=dict(train=[f'clip{i}' for i in range(6)], test=[f'clip{i}' for i in range(6, 10)]),
                annotations=annotations)
    path = tmp_path / 'ann.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def test_class_subset_keeps_labels_and_order(ann_file):
    dataset = PoseDataset(ann_file, None, class_subset=[3, 0])
    assert [x['frame_dir'] for x in dataset.video_infos] == ['clip0', 'clip1', 'clip4', 'clip5']
    assert dataset.labels == [0, 3, 3, 0]  # original ids, not re-indexed
    assert dataset.file_indices == [0, 1, 4, 5]
    assert dataset.class_subset == [3, 0]
    assert len(PoseDataset(ann_file, None)) == 10


def test_class_subset_with_split(ann_file):
    seen = PoseDataset(ann_file, None, split='train', class_subset=[0, 1, 2])
    assert seen.labels == [0, 1, 2, 0]
    unseen = PoseDataset(ann_file, None, split='test', class_subset=[3, 4], test_mode=True)
    assert unseen.labels == [4, 4]
    assert [x['frame_dir'] for x in unseen.video_infos] == ['clip6', 'clip9']


def test_class_subset_from_a_config_with_numpy_ids(ann_file):
    dataset = build_dataset(dict(type='PoseDataset', ann_file=ann_file, pipeline=None,
                                 class_subset=np.array([1, 4])))
    assert dataset.labels == [1, 4, 1, 4]


def test_class_subset_combines_with_class_prob(ann_file):
    dataset = PoseDataset(ann_file, None, split='train', class_subset=[3], class_prob={3: 3})
    assert dataset.labels == [3, 3, 3, 3, 3, 3]


def test_class_subset_without_samples(ann_file):
    with pytest.raises(AnnotationError, match=r"none of the 4 samples in split 'test' has a label in class_subset"):
        PoseDataset(ann_file, None, split='test', class_subset=[0, 3])


@pytest.mark.parametrize('subset, error, match', [
    ([], ValueError, 'empty'),
    ('0,1', TypeError, 'list of 0-based class ids'),
    ([1, 2.0], TypeError, 'must hold ints'),
    ([True], TypeError, 'must hold ints'),
    ([1, -1], ValueError, r'holds \[-1\]'),
    ([1, 1], ValueError, 'more than once'),
    ([2, 5], ValueError, r'holds \[5\], outside \[0, 5\)'),
])
def test_class_subset_errors(ann_file, subset, error, match):
    with pytest.raises(error, match=match):
        PoseDataset(ann_file, None, class_subset=subset, num_classes=5)


def test_class_subset_rejects_multi_class(ann_file):
    with pytest.raises(ValueError, match='multi_class'):
        PoseDataset(ann_file, None, class_subset=[1], multi_class=True, num_classes=5)


def test_dataset_evaluates_seen_and_unseen_accuracy(ann_file):
    dataset = PoseDataset(ann_file, None, test_mode=True)
    labels = dataset.labels  # [0, 3, 1, 2, 3, 0, 4, 1, 2, 4], unseen: 3 and 4
    predictions = [0, 3, 1, 0, 4, 0, 4, 3, 2, 1]
    results = [np.eye(5)[p] for p in predictions]
    # seen samples (labels 0 1 2 0 1 2 predicted 0 1 0 0 3 2): 4 of 6 right; unseen (3 3 4 4 -> 3 4 4 1): 2 of 4
    metrics = dataset.evaluate(results, metrics=['seen_unseen_accuracy', 'top_k_accuracy'], topk=(1, ),
                               unseen_classes=[3, 4], logger='silent')
    assert list(metrics) == ['seen_acc', 'unseen_acc', 'harmonic_mean', 'top1_acc']
    assert metrics['seen_acc'] == pytest.approx(4 / 6)
    assert metrics['unseen_acc'] == pytest.approx(0.5)
    assert metrics['harmonic_mean'] == pytest.approx(2 * (4 / 6) * 0.5 / (4 / 6 + 0.5))
    assert metrics['top1_acc'] == pytest.approx(0.6)
    assert all(type(v) is float for v in metrics.values())
    assert labels == [0, 3, 1, 2, 3, 0, 4, 1, 2, 4]
    # the same through metric_options
    by_options = dataset.evaluate(results, metrics='seen_unseen_accuracy', logger='silent',
                                  metric_options=dict(seen_unseen_accuracy=dict(unseen_classes=[3, 4])))
    assert by_options == {k: metrics[k] for k in ('seen_acc', 'unseen_acc', 'harmonic_mean')}


def test_dataset_evaluation_needs_the_unseen_classes(ann_file):
    dataset = PoseDataset(ann_file, None, test_mode=True)
    with pytest.raises(ValueError, match='needs the unseen classes'):
        dataset.evaluate([np.ones(5)] * 10, metrics='seen_unseen_accuracy', logger='silent')
    with pytest.raises(TypeError, match='unexpected keyword arguments'):
        dataset.evaluate([np.ones(5)] * 10, metrics='top_k_accuracy', logger='silent', unseen=[3])
