import json
import logging
import os
import pickle

import numpy as np
import pytest
import torch

from pyskl.datasets import compressed_pose
from pyskl.datasets.builder import DATASETS, build_dataset
from pyskl.datasets.pose_dataset import PoseDataset


def make_sample(frame_dir, label, num_person=1, num_frames=10, num_joints=17, coords=2, seed=0):
    rng = np.random.default_rng(seed)
    sample = dict(
        frame_dir=frame_dir,
        label=label,
        total_frames=num_frames,
        img_shape=(64, 64),
        original_shape=(64, 64),
        keypoint=(rng.random((num_person, num_frames, num_joints, coords)) * 60 + 1).astype(np.float32))
    if coords == 2:
        sample['keypoint_score'] = rng.random((num_person, num_frames, num_joints)).astype(np.float32)
    return sample


def write_pickle(path, data):
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


@pytest.fixture
def ann_file(tmp_path):
    annotations = [make_sample(f'clip{i}', i % 3, seed=i) for i in range(6)]
    # the split lists its names in another order than the file: the file's order must win
    data = dict(split=dict(train=['clip4', 'clip0', 'clip2', 'clip5'], test=['clip3', 'clip1']),
                annotations=annotations)
    return write_pickle(tmp_path / 'ann.pkl', data)


def test_split_keeps_file_order(ann_file):
    train = PoseDataset(ann_file, None, split='train')
    assert [x['frame_dir'] for x in train.video_infos] == ['clip0', 'clip2', 'clip4', 'clip5']
    assert train.file_indices == [0, 2, 4, 5]
    test = PoseDataset(ann_file, None, split='test', test_mode=True)
    assert [x['frame_dir'] for x in test.video_infos] == ['clip1', 'clip3']
    assert len(PoseDataset(ann_file, None)) == 6


def test_bare_list_file(tmp_path):
    path = write_pickle(tmp_path / 'list.pkl', [make_sample('a', 0, coords=3), make_sample('b', 1, coords=3)])
    dataset = PoseDataset(path, None)
    assert dataset.labels == [0, 1]
    assert dataset[1]['keypoint'].shape == (1, 10, 17, 3)


def test_getitem_adds_keys_and_copies(ann_file):
    seen = []

    def pipeline(results):
        seen.append(dict(results))
        results['keypoint'][:] = -1  # must not reach the stored annotation
        return results

    dataset = PoseDataset(ann_file, pipeline, split='train')
    out = dataset[1]
    assert out['frame_dir'] == 'clip2'
    assert (seen[0]['modality'], seen[0]['start_index'], seen[0]['test_mode']) == ('Pose', 0, False)
    assert (dataset.video_infos[1]['keypoint'] > 0).all()
    dataset.test_mode = True
    assert dataset[1]['test_mode'] is True
    assert dataset.prepare_train_frames(0)['test_mode'] is False


def test_list_pipeline_goes_through_compose(ann_file):
    def add_flag(results):
        results['flag'] = results['frame_dir'] + '!'
        return results

    dataset = PoseDataset(ann_file, [add_flag], split='test')
    assert dataset[0]['flag'] == 'clip1!'


def test_build_from_config(ann_file):
    assert DATASETS.get('PoseDataset') is PoseDataset
    dataset = build_dataset(dict(type='PoseDataset', ann_file=ann_file, pipeline=None, split='test', num_classes=3))
    assert isinstance(dataset, PoseDataset)
    assert len(dataset) == 2


def test_data_prefix_is_joined(ann_file):
    dataset = PoseDataset(ann_file, None, split='test', data_prefix='videos')
    assert dataset.video_infos[0]['frame_dir'] == os.path.join('videos', 'clip1')


def test_loading_does_not_touch_the_file_or_loaded_arrays(tmp_path):
    sample = make_sample('a', 0, num_person=2, num_frames=4)
    sample['box_score'] = np.array([[0.9, 0.9, 0.1, 0.9], [0.1, 0.1, 0.1, 0.1]], dtype=np.float32)
    path = write_pickle(tmp_path / 'ann.pkl', [sample])
    before = open(path, 'rb').read()
    dataset = PoseDataset(path, None, box_thr=0.5)
    dataset[0]
    assert open(path, 'rb').read() == before
    assert (dataset.video_infos[0]['keypoint'] > 0).all()


def test_box_thr_blanks_and_drops_people(tmp_path):
    sample = make_sample('a', 0, num_person=3, num_frames=4)
    sample['box_score'] = np.array([[0.9, 0.9, 0.1, 0.9], [0.1, 0.1, 0.1, 0.1], [0.2, 0.8, 0.8, 0.2]],
                                   dtype=np.float32)
    path = write_pickle(tmp_path / 'ann.pkl', [sample])
    out = PoseDataset(path, None, box_thr=0.5)[0]
    assert 'box_score' not in out
    # person 1 has no frame above the threshold and is dropped
    assert out['keypoint'].shape == (2, 4, 17, 2)
    expected_mask = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(out['anno_inds'], expected_mask)
    np.testing.assert_array_equal(out['keypoint'].any(axis=(2, 3)), expected_mask)
    np.testing.assert_array_equal(out['keypoint_score'].any(axis=2), expected_mask)
    np.testing.assert_array_equal(out['keypoint'][1, 1], sample['keypoint'][2, 1])
    # without box_thr the box scores are ignored
    out = PoseDataset(path, None)[0]
    assert out['keypoint'].shape == (3, 4, 17, 2) and 'anno_inds' not in out


def test_box_thr_keeps_one_person_when_none_passes(tmp_path):
    sample = make_sample('a', 0, num_person=2, num_frames=3)
    sample['box_score'] = np.full((2, 3), 0.1, dtype=np.float32)
    out = PoseDataset(write_pickle(tmp_path / 'ann.pkl', [sample]), None, box_thr=0.5)[0]
    assert out['keypoint'].shape == (1, 3, 17, 2)
    assert not out['keypoint'].any()


def test_valid_ratio_from_keypoints(tmp_path):
    full = make_sample('full', 0, num_frames=10)
    sparse = make_sample('sparse', 1, num_frames=10)
    sparse['keypoint'][:, 3:] = 0  # only 3 of 10 frames have a person
    path = write_pickle(tmp_path / 'ann.pkl', [full, sparse])
    assert [x['frame_dir'] for x in PoseDataset(path, None, valid_ratio=0.5).video_infos] == ['full']
    assert len(PoseDataset(path, None, valid_ratio=0.3)) == 2


def test_valid_ratio_from_valid_dict_and_box_scores(tmp_path):
    a = make_sample('a', 0, num_frames=10)
    a['valid'] = {0.5: 9, 0.7: 2}
    a['box_score'] = np.full((1, 10), 0.9, dtype=np.float32)
    b = make_sample('b', 1, num_frames=10)
    b['box_score'] = np.array([[0.9] * 4 + [0.2] * 6], dtype=np.float32)  # 4 of 10 frames pass 0.5
    path = write_pickle(tmp_path / 'ann.pkl', [a, b])
    assert [x['frame_dir'] for x in PoseDataset(path, None, box_thr=0.5, valid_ratio=0.5).video_infos] == ['a']
    assert [x['frame_dir'] for x in PoseDataset(path, None, box_thr=0.7, valid_ratio=0.3).video_infos] == ['b']
    dataset = PoseDataset(path, None, box_thr=0.5, valid_ratio=0.4)
    assert len(dataset) == 2 and 'valid' not in dataset.video_infos[0]
    with pytest.raises(ValueError, match='no sample left'):
        PoseDataset(path, None, box_thr=0.7, valid_ratio=0.9)
    with pytest.raises(ValueError, match=r'valid.*box_thr=0\.6'):
        PoseDataset(path, None, box_thr=0.6, valid_ratio=0.5)


def test_class_prob_repeats_rare_classes(ann_file):
    base = PoseDataset(ann_file, None)
    counts = np.bincount(base.labels, minlength=3)
    dataset = PoseDataset(ann_file, None, class_prob=[1, 3, 1])
    np.testing.assert_array_equal(np.bincount(dataset.labels, minlength=3), counts * [1, 3, 1])
    assert [base.file_indices[i] for i in range(len(base))] == sorted(set(dataset.file_indices))
    # dict form: missing classes keep multiplier 1
    dataset = PoseDataset(ann_file, None, class_prob={2: 2})
    np.testing.assert_array_equal(np.bincount(dataset.labels, minlength=3), counts * [1, 1, 2])
    # ignored in test mode
    assert len(PoseDataset(ann_file, None, class_prob=[1, 3, 1], test_mode=True)) == len(base)


def test_class_prob_fractional_part_is_seeded(tmp_path):
    path = write_pickle(tmp_path / 'ann.pkl', [make_sample(f'c{i}', 0, num_frames=2, seed=i) for i in range(400)])
    lengths = {seed: len(PoseDataset(path, None, class_prob=[1.5], class_prob_seed=seed)) for seed in (0, 1)}
    assert lengths[0] == len(PoseDataset(path, None, class_prob=[1.5], class_prob_seed=0))
    assert lengths[0] != lengths[1]
    for length in lengths.values():
        assert 400 + 140 < length < 400 + 260  # about half of the samples get a second copy


def test_class_prob_bad_values(ann_file):
    with pytest.raises(ValueError, match=r'class_prob\[1\].*>= 1'):
        PoseDataset(ann_file, None, class_prob=[1, 0.5, 1])
    with pytest.raises(ValueError, match='2 entries but label 2'):
        PoseDataset(ann_file, None, class_prob=[1, 2])


def test_bad_constructor_arguments(ann_file):
    with pytest.raises(ValueError, match='box_thr'):
        PoseDataset(ann_file, None, box_thr=5)
    with pytest.raises(ValueError, match='num_classes'):
        PoseDataset(ann_file, None, multi_class=True)
    with pytest.raises(TypeError, match='pipeline'):
        PoseDataset(ann_file, 'UniformSampleFrames')


def test_evaluate(ann_file, caplog, tmp_path):
    dataset = PoseDataset(ann_file, None)
    assert dataset.labels == [0, 1, 2, 0, 1, 2]
    # top-1 right for samples 0, 1, 3; the true class is second for samples 4, 5 and third for sample 2
    results = list(
        np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.5, 0.3, 0.2],
                  [0.2, 0.5, 0.3]]))
    logger = logging.getLogger('test_pose_dataset.evaluate')
    with caplog.at_level(logging.INFO, logger=logger.name):
        out = dataset.evaluate(results, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 2), logger=logger)
    assert out == {'top1_acc': 0.5, 'top2_acc': pytest.approx(5 / 6), 'mean_class_accuracy': 0.5}
    assert all(type(v) is float for v in out.values())
    assert 'top1_acc' in caplog.text and '0.5000' in caplog.text
    # default: top-1 and top-5
    assert set(dataset.evaluate(results, logger='silent')) == {'top1_acc', 'top5_acc'}
    assert dataset.evaluate(results, metric_options=dict(top_k_accuracy=dict(topk=3)), logger='silent') == {
        'top3_acc': 1.0}
    # the metrics go into checkpoints, which torch loads with weights_only=True
    torch.save(dict(meta=out), tmp_path / 'meta.pth')
    assert torch.load(tmp_path / 'meta.pth', weights_only=True)['meta'] == out


def test_evaluate_rejects_bad_calls(ann_file):
    dataset = PoseDataset(ann_file, None, split='test')
    with pytest.raises(ValueError, match='got 3 results for 2 samples'):
        dataset.evaluate([np.zeros(3)] * 3, logger='silent')
    with pytest.raises(KeyError, match='allowed metrics'):
        dataset.evaluate([np.zeros(3)] * 2, metrics='f1', logger='silent')
    with pytest.raises(TypeError, match='unexpected keyword'):
        dataset.evaluate([np.zeros(3)] * 2, metric='top_k_accuracy', logger='silent')


def test_multi_class(tmp_path):
    samples = [make_sample('a', [0, 2]), make_sample('b', [1]), make_sample('c', [2])]
    dataset = PoseDataset(write_pickle(tmp_path / 'ann.pkl', samples), None, multi_class=True, num_classes=3)
    np.testing.assert_array_equal(dataset[0]['label'], [1, 0, 1])
    assert dataset[0]['label'].dtype == np.float32
    scores = [np.array([0.9, 0.1, 0.8]), np.array([0.1, 0.9, 0.2]), np.array([0.1, 0.2, 0.7])]
    assert dataset.evaluate(scores, metrics='mean_average_precision', logger='silent') == {
        'mean_average_precision': 1.0}
    with pytest.raises(ValueError, match='mean_average_precision'):
        dataset.evaluate(scores, logger='silent')


def test_dump_results(tmp_path):
    results = [np.arange(3, dtype=np.float32), np.ones(3, dtype=np.float32)]
    PoseDataset.dump_results(results, str(tmp_path / 'out' / 'res.pkl'))
    with open(tmp_path / 'out' / 'res.pkl', 'rb') as f:
        loaded = pickle.load(f)
    np.testing.assert_array_equal(loaded[0], results[0])
    PoseDataset.dump_results(results, str(tmp_path / 'res.json'))
    assert json.loads((tmp_path / 'res.json').read_text()) == [[0, 1, 2], [1, 1, 1]]
    with pytest.raises(ValueError, match='extension'):
        PoseDataset.dump_results(results, str(tmp_path / 'res.txt'))
    # nothing but the results themselves is left behind
    assert sorted(os.listdir(tmp_path)) == ['out', 'res.json']
    assert os.listdir(tmp_path / 'out') == ['res.pkl']


def test_dump_results_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    out = tmp_path / 'res.pkl'
    PoseDataset.dump_results([1, 2], str(out))

    def disk_full(fd):
        raise OSError('no space left on device')

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError, match='no space'):
        PoseDataset.dump_results([3, 4, 5], str(out))
    with open(out, 'rb') as f:
        assert pickle.load(f) == [1, 2]
    assert os.listdir(tmp_path) == ['res.pkl']


class FakeMemcache:

    def __init__(self):
        self.store = {}
        self.gets = 0

    def get(self, key):
        self.gets += 1
        return pickle.loads(self.store[key]) if key in self.store else None

    def set(self, key, value):
        self.store[key] = pickle.dumps(value)


def test_memcached_fetches_raw_file(tmp_path, monkeypatch):
    full = [make_sample('a', 0, seed=1), make_sample('b', 1, seed=2)]
    raw = {s['frame_dir']: {k: s[k] for k in ('keypoint', 'keypoint_score', 'total_frames')} for s in full}
    raw_file = write_pickle(tmp_path / 'raw.pkl', raw)
    light = [dict(frame_dir=s['frame_dir'], label=s['label'], img_shape=s['img_shape'], raw_file=raw_file)
             for s in full]
    path = write_pickle(tmp_path / 'ann.pkl', light)
    client = FakeMemcache()
    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: client)
    dataset = PoseDataset(path, None, memcached=True, mc_cfg=('localhost', 11211))
    out = dataset[1]
    np.testing.assert_array_equal(out['keypoint'], full[1]['keypoint'])
    assert set(client.store) == {'a', 'b'}  # a miss fills the cache with the whole raw file
    os.remove(raw_file)  # now served from the cache
    np.testing.assert_array_equal(dataset[0]['keypoint_score'], full[0]['keypoint_score'])
    assert pickle.loads(pickle.dumps(dataset))._raw_reader._client is None


def test_memcached_validates_fetched_fields(tmp_path, monkeypatch):
    raw_file = write_pickle(tmp_path / 'raw.pkl', {'a': dict(keypoint=np.zeros((1, 5, 17)), total_frames=5)})
    path = write_pickle(tmp_path / 'ann.pkl', [dict(frame_dir='a', label=0, raw_file=raw_file)])
    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: FakeMemcache())
    dataset = PoseDataset(path, None, memcached=True, mc_cfg=('localhost', 11211))
    with pytest.raises(ValueError, match=r"raw\.pkl.*sample 0 \('a'\), field 'keypoint'"):
        dataset[0]


def test_memcached_needs_mc_cfg(ann_file):
    with pytest.raises(ValueError, match='mc_cfg'):
        PoseDataset(ann_file, None, memcached=True)
