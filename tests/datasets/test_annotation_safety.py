"""Malicious annotation files never run code, and the inputs that used to slip through fail at build time."""
import os
import pickle
import re

import numpy as np
import pytest
from test_bad_annotations import check_sample_error, file_with_bad_sample, make_sample, write

from pyskl.datasets import build_dataset, compressed_pose
from pyskl.datasets.dataset_wrappers import ConcatDataset, RepeatDataset
from pyskl.datasets.errors import AnnotationError
from pyskl.datasets.pose_dataset import PoseDataset
from pyskl.datasets.synthetic import generate_synthetic_dataset


class Payload:
    """Unpickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def touch_marker(marker):
    return Payload(os.system, f'touch {marker}')


# ------------------------------------------------------------------ malicious files


@pytest.mark.parametrize('where', ['top', 'sample', 'field', 'split'])
def test_malicious_annotation_pickle_is_refused(tmp_path, where):
    marker = tmp_path / 'marker'
    samples = [make_sample('a'), make_sample('b')]
    data = dict(split=dict(train=['a', 'b']), annotations=samples)
    if where == 'top':
        data = touch_marker(marker)
    elif where == 'sample':
        samples.append(touch_marker(marker))
    elif where == 'field':
        samples[1]['keypoint'] = touch_marker(marker)
    else:
        data['split']['val'] = touch_marker(marker)
    path = write(tmp_path, data)
    with pytest.raises(AnnotationError) as info:
        PoseDataset(path, None)
    message = str(info.value)
    assert path in message
    assert re.search(r'refers to (posix|nt)\.system', message)
    assert 'unsafe_pickle=True' in message
    assert not marker.exists()


def test_unsafe_pickle_opt_in_restores_plain_pickle(tmp_path):
    marker = tmp_path / 'marker'
    path = write(tmp_path, dict(annotations=[make_sample('a')], extra=Payload(open, str(marker), 'w')))
    dataset = PoseDataset(path, None, unsafe_pickle=True)
    assert marker.exists()  # the opt-in really unpickles everything
    assert dataset.labels == [0]
    with pytest.raises(TypeError, match='unsafe_pickle must be True or False'):
        PoseDataset(path, None, unsafe_pickle='yes')


def test_unsafe_pickle_from_config(tmp_path):
    marker = tmp_path / 'marker'
    path = write(tmp_path, [make_sample('a'), touch_marker(marker)])
    with pytest.raises(AnnotationError, match='unsafe_pickle'):
        build_dataset(dict(type='PoseDataset', ann_file=path, pipeline=[]))
    assert not marker.exists()


def test_malicious_raw_file_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / 'marker'
    raw_file = write(tmp_path, {'a': dict(keypoint=touch_marker(marker))}, name='raw.pkl')
    light = dict(frame_dir='a', label=0, img_shape=(32, 32), raw_file=raw_file)
    path = write(tmp_path, [light])

    class EmptyCache:
        def get(self, key):
            return None

        def set(self, key, value):
            raise AssertionError('nothing may be cached from a refused file')

    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: EmptyCache())
    dataset = PoseDataset(path, None, memcached=True, mc_cfg=('localhost', 11211))
    with pytest.raises(AnnotationError) as info:
        dataset[0]
    assert raw_file in str(info.value) and 'system' in str(info.value)
    assert not marker.exists()


def test_memcached_values_are_unpickled_restricted(tmp_path):
    marker = tmp_path / 'marker'
    serde = compressed_pose._Serde()
    value, flags = serde.serialize('a', dict(keypoint=np.zeros((1, 2, 17, 2), np.float32)))
    assert serde.deserialize('a', value, flags)['keypoint'].shape == (1, 2, 17, 2)
    with pytest.raises(AnnotationError, match='system'):
        serde.deserialize('a', pickle.dumps(touch_marker(marker)), flags)
    assert not marker.exists()
    # plain pickle only with the opt-in
    assert compressed_pose._Serde(unsafe=True).deserialize('a', value, flags)['keypoint'].shape == (1, 2, 17, 2)
    assert not compressed_pose._Serde().unsafe


def test_synthetic_set_loads_restricted(tmp_path):
    data = generate_synthetic_dataset(num_train_per_class=1, num_val_per_class=1, min_frames=8, max_frames=12)
    path = write(tmp_path, data)
    train = PoseDataset(path, None, split='train', num_classes=len(set(a['label'] for a in data['annotations'])))
    assert len(train) == len(data['split']['train'])


# ------------------------------------------------------------------ img_shape


@pytest.mark.parametrize('field', ['img_shape', 'original_shape'])
@pytest.mark.parametrize('value, fragment', [
    ('480x640', r"is '480x640' \(str\)"),
    ((0, 0), r'is \(0, 0\); height and width must be positive'),
    ((-480, 640), r'is \(-480, 640\); height and width must be positive'),
    ((480, ), r'expected \(h, w\)'),
    ((480, 640, 3), r'expected \(h, w\)'),
    ((480.0, 640.0), r'two ints'),
    (np.array([[480, 640]]), r'expected \(h, w\)'),
])
def test_bad_image_shape(tmp_path, field, value, fragment):
    check_sample_error(file_with_bad_sample(tmp_path, **{field: value}), field, fragment)


def test_img_shape_missing_in_2d(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, img_shape=None), 'img_shape', 'missing; 2D samples')


def test_img_shape_forms_that_are_fine(tmp_path):
    path = write(tmp_path, [dict(make_sample('a'), img_shape=[32, 48]),
                            dict(make_sample('b'), img_shape=np.array([32, 48], np.int64))])
    assert len(PoseDataset(path, None)) == 2


def test_3d_samples_need_no_img_shape(tmp_path):
    samples = [dict(frame_dir=f'c{i}', label=0, total_frames=4, keypoint=np.ones((1, 4, 25, 3), np.float32))
               for i in range(2)]
    assert len(PoseDataset(write(tmp_path, samples), None)) == 2


def test_compressed_sample_checks_img_shape_but_not_arrays(tmp_path):
    compressed = dict(frame_dir='k', label=0, total_frames=5, img_shape=(32, 32), frame_inds=np.array([0, 1, 1]),
                      keypoint=np.ones((3, 17, 3), np.float16), box_score=np.ones(3))
    assert len(PoseDataset(write(tmp_path, [compressed]), None)) == 1
    del compressed['img_shape']
    with pytest.raises(AnnotationError, match=r"sample 0 \('k'\), field 'img_shape': missing"):
        PoseDataset(write(tmp_path, [compressed]), None)


# ------------------------------------------------------------------ joints, people, scores, duplicates


def test_joint_count_that_differs_from_the_others(tmp_path):
    odd = make_sample('bad')
    odd['keypoint'] = np.ones((2, 8, 25, 2), np.float32)
    odd['keypoint_score'] = np.ones((2, 8, 25), np.float32)
    path = write(tmp_path, [make_sample('good0'), make_sample('good1'), odd])
    message = check_sample_error(path, 'keypoint', 'V = 25 joints', r'\(V, C\) = \(17, 2\)', '1 of 3 samples')
    assert '(17, 2): 2' in message and '(25, 2): 1' in message


def test_joint_count_check_covers_the_split_only(tmp_path):
    odd = dict(make_sample('odd'), keypoint=np.ones((1, 8, 25, 2), np.float32),
               keypoint_score=np.ones((1, 8, 25), np.float32))
    path = write(tmp_path, dict(split=dict(train=['a', 'b'], other=['odd']),
                                annotations=[make_sample('a'), make_sample('b'), odd]))
    assert len(PoseDataset(path, None, split='train')) == 2


def test_no_person(tmp_path):
    path = file_with_bad_sample(tmp_path, keypoint=np.zeros((0, 8, 17, 2), np.float32),
                                keypoint_score=np.zeros((0, 8, 17), np.float32))
    check_sample_error(path, 'keypoint', r'no person \(M = 0\)')


def test_negative_scores(tmp_path):
    score = make_sample('bad')['keypoint_score']
    score[0, 0, :3] = -1.0
    score[1, 2, 5] = -0.5
    check_sample_error(file_with_bad_sample(tmp_path, keypoint_score=score), 'keypoint_score',
                       '4 negative values', 'minimum -1')


def test_scores_above_one_are_accepted(tmp_path):
    score = make_sample('bad')['keypoint_score'] + 1
    assert len(PoseDataset(file_with_bad_sample(tmp_path, keypoint_score=score), None)) == 3


def test_duplicate_frame_dir(tmp_path):
    path = write(tmp_path, [make_sample('a'), make_sample('b'), make_sample('a'), make_sample('b'), make_sample('a')])
    with pytest.raises(AnnotationError) as info:
        PoseDataset(path, None)
    message = str(info.value)
    assert path in message and "field 'frame_dir'" in message
    assert '3 samples repeat the frame_dir of another (2 distinct names)' in message
    assert "sample 2 ('a') repeats sample 0" in message and "sample 3 ('b') repeats sample 1" in message


# ------------------------------------------------------------------ labels and num_classes


@pytest.mark.parametrize('test_mode', [False, True])
def test_label_range_in_train_and_test_mode(tmp_path, test_mode):
    path = file_with_bad_sample(tmp_path, label=18)
    check_sample_error(path, 'label', re.escape('outside [0, 18)'), num_classes=18, test_mode=test_mode)
    assert len(PoseDataset(path, None, num_classes=19, test_mode=test_mode)) == 3


@pytest.mark.parametrize('test_mode', [False, True])
@pytest.mark.parametrize('wrapper', ['RepeatDataset', 'ConcatDataset', 'list'])
def test_build_dataset_passes_num_classes_through_wrappers(tmp_path, wrapper, test_mode):
    path = file_with_bad_sample(tmp_path, label=5)
    inner = dict(type='PoseDataset', ann_file=path, pipeline=[], test_mode=test_mode)
    cfg = dict(RepeatDataset=dict(type='RepeatDataset', times=2, dataset=inner),
               ConcatDataset=dict(type='ConcatDataset', datasets=[inner]), list=[inner])[wrapper]
    with pytest.raises(AnnotationError, match=re.escape(path) + r".*'bad'.*field 'label'.*outside \[0, 5\)"):
        build_dataset(cfg, dict(num_classes=5))
    assert len(build_dataset(cfg, dict(num_classes=6))) in (3, 6)


def test_wrappers_check_num_classes_themselves(tmp_path):
    path = file_with_bad_sample(tmp_path, label=4)
    plain = PoseDataset(path, None)
    with pytest.raises(AnnotationError, match=r"RepeatDataset: ann_file .*sample 2 \('bad'\), field 'label': is 4"):
        RepeatDataset(plain, 2, num_classes=4)
    good = PoseDataset(write(tmp_path, [make_sample('a')], name='good.pkl'), None)
    with pytest.raises(AnnotationError, match=r"ConcatDataset part 1: .*sample 2 \('bad'\), field 'label'"):
        ConcatDataset([good, plain], num_classes=4)
    assert len(ConcatDataset([good, plain], num_classes=5)) == 4
    with pytest.raises(ValueError, match='built with num_classes=6'):
        RepeatDataset(PoseDataset(path, None, num_classes=6), 2, num_classes=5)
    assert RepeatDataset(plain, 2, num_classes=5).num_classes == 5


def test_samples_removed_by_split_are_not_checked_for_labels(tmp_path):
    path = write(tmp_path, dict(split=dict(train=['a'], test=['b']),
                                annotations=[make_sample('a', label=1), make_sample('b', label=9)]))
    assert PoseDataset(path, None, split='train', num_classes=2).labels == [1]
    with pytest.raises(AnnotationError, match=r"'b'.*outside \[0, 2\)"):
        PoseDataset(path, None, split='test', num_classes=2, test_mode=True)


@pytest.mark.parametrize('name', [np.array([0., 0.]), 7, '', None, ('a', )])
def test_frame_dir_must_be_a_non_empty_string(tmp_path, name):
    samples = [make_sample('good0'), make_sample('good1'), dict(make_sample('x'), frame_dir=name)]
    with pytest.raises(AnnotationError, match=r"sample 2, field 'frame_dir': is .*expected a non-empty str"):
        PoseDataset(write(tmp_path, samples), None)


@pytest.mark.parametrize('names', ['clip0', [['clip0']], [0], None])
def test_split_that_is_not_a_list_of_names(tmp_path, names):
    path = write(tmp_path, dict(split=dict(train=names), annotations=[make_sample('clip0')]))
    with pytest.raises(AnnotationError, match=r"split 'train' must be a list of frame_dir strings"):
        PoseDataset(path, None, split='train')
