import pickle
import re

import numpy as np
import pytest

from pyskl.datasets.errors import AnnotationError
from pyskl.datasets.pose_dataset import PoseDataset


def make_sample(frame_dir, label=0, num_frames=8):
    rng = np.random.default_rng(len(frame_dir))
    return dict(
        frame_dir=frame_dir,
        label=label,
        total_frames=num_frames,
        img_shape=(32, 32),
        keypoint=(rng.random((2, num_frames, 17, 2)) * 30).astype(np.float32),
        keypoint_score=rng.random((2, num_frames, 17)).astype(np.float32))


def write(tmp_path, data, name='ann.pkl'):
    path = tmp_path / name
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def file_with_bad_sample(tmp_path, **changes):
    """Two good samples and, at index 2, one named 'bad' with ``changes`` applied (None deletes the field)."""
    bad = make_sample('bad')
    for key, value in changes.items():
        if value is None:
            del bad[key]
        else:
            bad[key] = value
    return write(tmp_path, [make_sample('good0'), make_sample('good1'), bad])


def check_sample_error(path, field, *fragments, **kwargs):
    """Loading raises one AnnotationError naming the file, sample 2 ('bad'), the field and the fragments."""
    with pytest.raises(AnnotationError) as info:
        PoseDataset(path, None, **kwargs)
    message = str(info.value)
    assert path in message
    assert "sample 2 ('bad')" in message
    assert f'field {field!r}' in message
    for fragment in fragments:
        assert re.search(fragment, message), (fragment, message)
    return message


def test_missing_file_names_path_and_tools(tmp_path):
    path = str(tmp_path / 'data' / 'missing.pkl')
    with pytest.raises(FileNotFoundError, match=re.escape(path) + '.*tools/data'):
        PoseDataset(path, None)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(AnnotationError, match='is a directory'):
        PoseDataset(str(tmp_path), None)


def test_not_a_pickle(tmp_path):
    path = tmp_path / 'ann.pkl'
    path.write_text('frame_dir,label\nclip0,1\n')
    with pytest.raises(AnnotationError, match=re.escape(str(path)) + '.*not a pickle'):
        PoseDataset(str(path), None)


@pytest.mark.parametrize('keep', [0, 10, 300])
def test_truncated_pickle(tmp_path, keep):
    path = write(tmp_path, dict(split=dict(train=['a']), annotations=[make_sample('a')]))
    with open(path, 'rb') as f:
        payload = f.read()
    with open(path, 'wb') as f:
        f.write(payload[:keep])
    with pytest.raises(AnnotationError, match=re.escape(path) + '.*(truncated|empty)'):
        PoseDataset(path, None)


@pytest.mark.parametrize('data, fragment', [
    (dict(split=dict(train=['a'])), r"got a dict with keys \['split'\]"),
    (dict(annotations='oops'), 'annotations=\\[...\\]'),
    (np.zeros(3), 'got ndarray'),
    (dict(split=['a'], annotations=[]), "'split' must be a dict"),
])
def test_wrong_top_level_form(tmp_path, data, fragment):
    path = write(tmp_path, data)
    with pytest.raises(AnnotationError, match=re.escape(path) + '.*' + fragment):
        PoseDataset(path, None)


def test_empty_split(tmp_path):
    path = write(tmp_path, dict(split=dict(train=[], val=['a']), annotations=[make_sample('a')]))
    with pytest.raises(AnnotationError, match=re.escape(path) + ": there are no samples in split 'train'"):
        PoseDataset(path, None, split='train')


def test_sample_not_a_dict(tmp_path):
    path = write(tmp_path, [make_sample('a'), ['not', 'a', 'dict']])
    with pytest.raises(AnnotationError, match=r'sample 1.*is a list, expected an annotation dict'):
        PoseDataset(path, None)


def test_sample_without_identifier(tmp_path):
    sample = make_sample('a')
    del sample['frame_dir']
    path = write(tmp_path, [make_sample('b'), sample])
    with pytest.raises(AnnotationError, match=r"sample 1, field 'frame_dir': missing"):
        PoseDataset(path, None)


def test_unknown_split_lists_available(tmp_path):
    path = write(tmp_path, dict(split=dict(xsub_train=['a'], xsub_val=['a']), annotations=[make_sample('a')]))
    with pytest.raises(AnnotationError, match=r"split 'train' is not in the file; available splits: 'xsub_train', "
                       r"'xsub_val'"):
        PoseDataset(path, None, split='train')


def test_split_on_bare_list(tmp_path):
    path = write(tmp_path, [make_sample('a')])
    with pytest.raises(AnnotationError, match="no 'split' dict"):
        PoseDataset(path, None, split='train')


def test_split_names_unknown_frame_dirs(tmp_path):
    names = ['a', 'ghost1', 'ghost2', 'ghost3', 'ghost4', 'ghost5', 'ghost6']
    path = write(tmp_path, dict(split=dict(train=names), annotations=[make_sample('a')]))
    with pytest.raises(AnnotationError) as info:
        PoseDataset(path, None, split='train')
    message = str(info.value)
    assert "lists 6 frame_dir that are not among the annotations" in message
    assert "'ghost1'" in message and "'ghost5'" in message and "'ghost6'" not in message


def test_bad_sample_outside_the_split_is_not_checked(tmp_path):
    bad = make_sample('bad')
    del bad['keypoint']
    path = write(tmp_path, dict(split=dict(train=['a'], test=['bad']), annotations=[make_sample('a'), bad]))
    assert len(PoseDataset(path, None, split='train')) == 1
    with pytest.raises(AnnotationError, match="'bad'.*'keypoint'"):
        PoseDataset(path, None, split='test')


def test_missing_keypoint(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, keypoint=None), 'keypoint', 'missing')


def test_missing_raw_file_is_named(tmp_path):
    path = file_with_bad_sample(tmp_path, keypoint=None, raw_file='raw.pkl')
    check_sample_error(path, 'raw_file', 'raw.pkl does not exist')


@pytest.mark.parametrize('shape', [(2, 8, 17), (8, 17, 2), (2, 8, 17, 2, 1)])
def test_keypoint_wrong_rank(tmp_path, shape):
    path = file_with_bad_sample(tmp_path, keypoint=np.zeros(shape, np.float32))
    check_sample_error(path, 'keypoint', re.escape(str(shape)), re.escape('[M, T, V, 2|3]'))


def test_keypoint_wrong_coordinate_count(tmp_path):
    path = file_with_bad_sample(tmp_path, keypoint=np.zeros((2, 8, 17, 4), np.float32))
    check_sample_error(path, 'keypoint', re.escape('(2, 8, 17, 4)'), '2\\|3')


def test_keypoint_not_an_array(tmp_path):
    path = file_with_bad_sample(tmp_path, keypoint=[[[[0.0, 0.0]]]])
    check_sample_error(path, 'keypoint', 'is a list')


def test_keypoint_score_shape(tmp_path):
    path = file_with_bad_sample(tmp_path, keypoint_score=np.zeros((2, 8, 16), np.float32))
    check_sample_error(path, 'keypoint_score', re.escape('(2, 8, 16)'), re.escape('(2, 8, 17)'))


def test_nan_and_inf_in_keypoint(tmp_path):
    keypoint = make_sample('bad')['keypoint']
    keypoint[0, 1, 2, 0] = np.nan
    keypoint[1, 3, 4, 1] = np.nan
    keypoint[1, 5, 6, 0] = np.inf
    check_sample_error(file_with_bad_sample(tmp_path, keypoint=keypoint), 'keypoint', '2 NaN and 1 inf')


def test_nan_in_keypoint_score(tmp_path):
    score = make_sample('bad')['keypoint_score']
    score[0, :3, 0] = np.nan
    check_sample_error(file_with_bad_sample(tmp_path, keypoint_score=score), 'keypoint_score', '3 NaN and 0 inf')


def test_total_frames_missing(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, total_frames=None), 'total_frames', 'missing')


def test_total_frames_mismatch(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, total_frames=9), 'total_frames', 'is 9 but keypoint has 8')


def test_total_frames_not_int(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, total_frames=8.0), 'total_frames', 'expected an int')


def test_label_missing(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, label=None), 'label', 'missing')


@pytest.mark.parametrize('label', ['3', 1.0, True, [1]])
def test_label_not_int(tmp_path, label):
    check_sample_error(file_with_bad_sample(tmp_path, label=label), 'label', 'expected an int')


def test_label_out_of_range(tmp_path):
    path = file_with_bad_sample(tmp_path, label=60)
    check_sample_error(path, 'label', re.escape('outside [0, 60)'), num_classes=60)
    assert len(PoseDataset(path, None, num_classes=61)) == 3


def test_label_negative(tmp_path):
    check_sample_error(file_with_bad_sample(tmp_path, label=-1), 'label', '>= 0')


def test_numpy_int_label_and_total_frames_are_fine(tmp_path):
    path = file_with_bad_sample(tmp_path, label=np.int64(3), total_frames=np.int32(8))
    assert PoseDataset(path, None).labels[2] == 3


def test_box_score_shape(tmp_path):
    path = file_with_bad_sample(tmp_path, box_score=np.ones((2, 7)))
    check_sample_error(path, 'box_score', re.escape('[M, T] = (2, 8)'), box_thr=0.5)


def test_coordinates_outside_the_image_are_legal(tmp_path):
    sample = make_sample('far')
    sample['keypoint'][0, 0, 0] = (5000.0, -200.0)
    assert len(PoseDataset(write(tmp_path, [sample]), None)) == 1


def test_file_is_not_modified_by_failed_load(tmp_path):
    path = file_with_bad_sample(tmp_path, total_frames=3)
    with open(path, 'rb') as f:
        before = f.read()
    with pytest.raises(AnnotationError):
        PoseDataset(path, None)
    with open(path, 'rb') as f:
        assert f.read() == before


def test_annotation_error_is_a_value_error():
    assert issubclass(AnnotationError, ValueError)
