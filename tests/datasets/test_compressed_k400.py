"""pyskl's compressed Kinetics-400 skeleton format: PoseDataset filtering, raw files, memcached, the four K400 configs.

The test file is written here by hand in that format: one row per detected person (``frame_inds`` [N],
``keypoint`` [N, V, 3], ``box_score`` [N]), ``valid`` per box threshold, and samples whose rows live in a separate
``raw_file`` holding ``{frame_dir: fields}`` for several samples, as pyskl's K400 kpfiles do.
"""
import copy
import os
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from mmcv import Config

from pyskl.datasets import build_dataset, compressed_pose
from pyskl.datasets.errors import AnnotationError
from pyskl.datasets.pipelines import DecompressPose
from pyskl.datasets.pose_dataset import PoseDataset
from pyskl.models import build_model

REPO_ROOT = Path(__file__).resolve().parents[2]
K400_CONFIGS = [f'configs/posec3d/slowonly_r50_{layout}_k400/{kind}.py' for layout in ('346', '463')
                for kind in ('joint', 'limb')]
IMG_SHAPE = (240, 320)
# a COCO-17 figure around its centre (x, y offsets in pixels)
FIGURE = np.array([[0, -40], [-4, -44], [4, -44], [-8, -42], [8, -42], [-14, -28], [14, -28], [-20, -12], [20, -12],
                   [-22, 4], [22, 4], [-10, 2], [10, 2], [-10, 24], [10, 24], [-10, 44], [10, 44]], np.float32)


def person(cx, cy, score):
    """A [17, 3] row: the figure centred at (cx, cy), every keypoint with ``score``."""
    return np.concatenate([FIGURE + [cx, cy], np.full((17, 1), score, np.float32)], axis=1)


def compressed(frame_dir, label, total_frames, entries):
    """A compressed annotation from ``entries`` = [(frame, cx, cy, keypoint score, box score), ...] (frame order)."""
    frame_inds = np.array([e[0] for e in entries], np.int64)
    box = np.array([e[4] for e in entries], np.float32)
    valid = {thr: int(np.unique(frame_inds[box >= thr]).size) for thr in (0.5, 0.6, 0.7, 0.8, 0.9)}
    return dict(frame_dir=frame_dir, label=label, img_shape=IMG_SHAPE, original_shape=IMG_SHAPE,
                total_frames=total_frames, frame_inds=frame_inds,
                keypoint=np.stack([person(e[1], e[2], e[3]) for e in entries]), box_score=box, valid=valid)


def k400_samples():
    # a: two persons in frames 0-3, nobody in frames 4-5, one person in 6-11 plus a box below 0.5 in frames 6 and 7
    a = [(t, 80 + 2 * t, 120, 0.9, 0.9) for t in range(4)]
    a = [row for t in range(4) for row in (a[t], (t, 220, 130, 0.6, 0.8))]
    for t in range(6, 12):
        a.append((t, 150, 110 + t, 0.7, 0.95))
        if t < 8:
            a.append((t, 40, 60, 0.95, 0.3))
    # b: a crowd of 12 persons in frame 2 (more than max_person=10) with distinct keypoint scores, one person elsewhere
    crowd_scores = [0.30, 0.90, 0.50, 0.10, 0.80, 0.20, 0.95, 0.40, 0.60, 0.05, 0.70, 0.85]
    b = [(t, 160, 120, 0.8, 0.9) for t in range(2)]
    b += [(2, 30 + 22 * i, 100 + i, s, 0.9) for i, s in enumerate(crowd_scores)]
    b += [(t, 160, 120, 0.8, 0.9) for t in range(3, 6)]
    # c: 20 frames, only 2 with a box of at least 0.5
    c = [(t, 100, 100, 0.5, 0.7 if t in (3, 9) else 0.2) for t in range(20)]
    # d, e: rows kept in a raw file
    d = [(t, 120 + t, 120, 0.8, 0.9) for t in range(8) if t != 5]
    e = [(t, 60, 150, 0.6, 0.9) for t in (0, 2, 4, 6, 8, 9)] + [(9, 260, 150, 0.6, 0.9)]
    return dict(a=compressed('k400_a', 3, 12, a), b=compressed('k400_b', 7, 6, b), c=compressed('k400_c', 1, 20, c),
                d=compressed('k400_d', 0, 8, d), e=compressed('k400_e', 399, 10, e))


def write_pickle(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f)
    return str(path)


def write_k400(tmp_path, samples=None):
    """The annotation file (a, b, c in it; d, e through one raw file) in pyskl's K400 layout; returns its path."""
    samples = k400_samples() if samples is None else samples
    row_fields = ('frame_inds', 'keypoint', 'box_score')
    raw_file = write_pickle(tmp_path / 'kpfile_0.pkl',
                            {samples[k]['frame_dir']: {f: samples[k][f] for f in row_fields} for k in 'de'})
    light = [dict({f: v for f, v in samples[k].items() if f not in row_fields}, raw_file=raw_file) for k in 'de']
    annotations = [samples['a'], samples['b'], samples['c']] + light
    split = dict(train=['k400_a', 'k400_b', 'k400_d'], val=['k400_c', 'k400_e'])
    return write_pickle(tmp_path / 'k400_hrnet.pkl', dict(split=split, annotations=annotations))


@pytest.fixture
def k400_file(tmp_path):
    return write_k400(tmp_path)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(compressed_pose, '_WARNED', set())


def decompressed(path, index, **kwargs):
    """Sample ``index`` of the file after PoseDataset(box_thr=0.5) and DecompressPose(squeeze=True)."""
    return PoseDataset(path, [dict(type='DecompressPose', squeeze=True)], box_thr=0.5, **kwargs)[index]


# ---------------------------------------------------------------- dataset + DecompressPose, by hand


def test_rows_below_box_thr_are_dropped_and_empty_frames_squeezed(k400_file):
    dataset = PoseDataset(k400_file, None, box_thr=0.5)
    raw = dataset[0]
    np.testing.assert_array_equal(raw['anno_inds'], k400_samples()['a']['box_score'] >= 0.5)
    assert 'box_score' not in raw and 'valid' not in raw

    out = decompressed(k400_file, 0)
    kp, score = out['keypoint'], out['keypoint_score']
    # frames 0-3 and 6-11 have a kept person: 10 frames; at most two kept persons per frame
    assert out['total_frames'] == 10 and kp.shape == (2, 10, 17, 2) and score.shape == (2, 10, 17)
    assert kp.dtype == np.float16 and score.dtype == np.float16
    np.testing.assert_array_equal(kp[0, 2], FIGURE + [84, 120])  # frame 2, first person
    np.testing.assert_array_equal(kp[1, 3], FIGURE + [220, 130])  # frame 3, second person
    np.testing.assert_array_equal(kp[0, 4], FIGURE + [150, 116])  # old frame 6: the low box (40, 60) is gone
    np.testing.assert_array_equal(score[:, 4:, 0], [[np.float16(0.7)] * 6, [0] * 6])
    np.testing.assert_array_equal(score[:, :4, 0], [[np.float16(0.9)] * 4, [np.float16(0.6)] * 4])


def test_without_box_thr_every_row_is_used(k400_file):
    out = PoseDataset(k400_file, [dict(type='DecompressPose', squeeze=True)])[0]
    assert out['total_frames'] == 10 and out['keypoint'].shape == (2, 10, 17, 2)
    np.testing.assert_array_equal(out['keypoint'][1, 4], FIGURE + [40, 60])  # the low box is the second person


def test_crowd_keeps_max_person_by_summed_score(k400_file):
    out = decompressed(k400_file, 1)
    assert out['keypoint'].shape == (10, 6, 17, 2)
    crowd_scores = [0.30, 0.90, 0.50, 0.10, 0.80, 0.20, 0.95, 0.40, 0.60, 0.05, 0.70, 0.85]
    by_score = sorted(range(12), key=lambda i: -crowd_scores[i])[:10]  # persons 9 (0.05) and 3 (0.10) drop out
    np.testing.assert_array_equal(out['keypoint'][:, 2, 0, 0], [30 + 22 * i + FIGURE[0, 0] for i in by_score])
    np.testing.assert_array_equal(out['keypoint_score'][:, 2, 0], np.float16([crowd_scores[i] for i in by_score]))
    # the other frames hold their one person in slot 0
    np.testing.assert_array_equal(out['keypoint_score'][1:, [0, 1, 3, 4, 5]], 0)
    assert (out['keypoint_score'][0, [0, 1, 3, 4, 5]] == np.float16(0.8)).all()


def test_raw_file_is_read_when_the_sample_is_fetched(k400_file):
    dataset = PoseDataset(k400_file, [dict(type='DecompressPose', squeeze=True)], split='train', box_thr=0.5)
    assert [x['frame_dir'] for x in dataset.video_infos] == ['k400_a', 'k400_b', 'k400_d']
    assert 'keypoint' not in dataset.video_infos[2]
    out = dataset[2]
    assert out['total_frames'] == 7 and out['keypoint'].shape == (1, 7, 17, 2)  # frame 5 has nobody
    np.testing.assert_array_equal(out['keypoint'][0, 5], FIGURE + [126, 120])  # old frame 6
    val = PoseDataset(k400_file, [dict(type='DecompressPose', squeeze=False)], split='val', box_thr=0.5)
    out = val[1]
    assert out['total_frames'] == 10 and out['keypoint'].shape == (2, 10, 17, 2)
    present = out['keypoint_score'][..., 0] > 0
    np.testing.assert_array_equal(present, [[t % 2 == 0 or t == 9 for t in range(10)], [t == 9 for t in range(10)]])


def test_valid_ratio_reads_valid_at_box_thr(k400_file):
    keep_all = PoseDataset(k400_file, None, box_thr=0.5, valid_ratio=0.0)
    assert len(keep_all) == 5
    # valid[0.5] / total_frames: a 10/12, b 6/6, c 2/20, d 7/8, e 6/10
    names = [x['frame_dir'] for x in PoseDataset(k400_file, None, box_thr=0.5, valid_ratio=0.7).video_infos]
    assert names == ['k400_a', 'k400_b', 'k400_d']
    names = [x['frame_dir'] for x in PoseDataset(k400_file, None, box_thr=0.5, valid_ratio=0.5).video_infos]
    assert names == ['k400_a', 'k400_b', 'k400_d', 'k400_e']


def test_missing_valid_entry_names_file_sample_and_field(tmp_path):
    samples = k400_samples()
    samples['b']['valid'] = {0.6: 6}
    path = write_k400(tmp_path, samples)
    with pytest.raises(AnnotationError, match=re.escape(path) + r".*sample 1 \('k400_b'\), field 'valid'.*0\.5"):
        PoseDataset(path, None, box_thr=0.5, valid_ratio=0.1)
    assert len(PoseDataset(path, None, box_thr=0.5, valid_ratio=0.0)) == 5  # no filter: valid is not needed
    with pytest.raises(AnnotationError, match="field 'valid'.*box_thr"):
        PoseDataset(path, None, valid_ratio=0.1)


def test_string_keys_of_valid_are_accepted(tmp_path):
    samples = k400_samples()
    samples['c']['valid'] = {'0.5': 2}
    names = [x['frame_dir'] for x in PoseDataset(write_k400(tmp_path, samples), None, box_thr=0.5,
                                                 valid_ratio=0.2).video_infos]
    assert 'k400_c' not in names and 'k400_a' in names


@pytest.mark.parametrize('sample, change, field, fragment', [
    ('a', dict(frame_inds=np.array([0, 0, 1, 1, 3, 2] + [6] * 3 + [7] * 3 + [8, 9, 10, 11])), 'frame_inds',
     'not non-decreasing: row 5 has frame 2 after 3'),
    ('a', dict(frame_inds=np.arange(16) + 1), 'frame_inds', r'outside \[0, total_frames=12\)'),
    ('a', dict(keypoint=np.zeros((16, 17, 2), np.float32)), 'keypoint', r'\[N, V, 3\]'),
    ('b', dict(keypoint=np.zeros((3, 17, 3), np.float32)), 'keypoint', 'N = 17 rows'),
    ('b', dict(box_score=np.ones(16, np.float32)), 'box_score', r'\[N\] = \(17,\)'),
    ('a', dict(box_score=None), 'box_score', 'box_thr=0.5'),
    ('c', dict(total_frames=0), 'total_frames', 'int >= 1'),
    ('c', dict(keypoint=np.full((20, 17, 3), np.nan, np.float32)), 'keypoint', 'NaN'),
])
def test_malformed_samples_name_file_sample_and_field(tmp_path, sample, change, field, fragment):
    samples = k400_samples()
    for key, value in change.items():
        if value is None:
            del samples[sample][key]
        else:
            samples[sample][key] = value
    path = write_k400(tmp_path, samples)
    index = 'abc'.index(sample)
    with pytest.raises(AnnotationError) as info:
        PoseDataset(path, None, box_thr=0.5)
    message = str(info.value)
    assert path in message and f"sample {index} ('k400_{sample}')" in message and f'field {field!r}' in message
    assert re.search(fragment, message), message


def test_malformed_raw_file_rows_name_the_raw_file(tmp_path):
    samples = k400_samples()
    samples['d']['keypoint'] = samples['d']['keypoint'][:, :, :2]
    path = write_k400(tmp_path, samples)
    dataset = PoseDataset(path, None, split='train', box_thr=0.5)
    with pytest.raises(AnnotationError, match=r"kpfile_0\.pkl.*sample 3 \('k400_d'\), field 'keypoint'.*\[N, V, 3\]"):
        dataset[2]


def test_missing_raw_file_fails_at_load_time(tmp_path):
    path = write_k400(tmp_path)
    os.remove(tmp_path / 'kpfile_0.pkl')
    with pytest.raises(AnnotationError, match=r"sample 3 \('k400_d'\), field 'raw_file'.*kpfile_0\.pkl does not exist"):
        PoseDataset(path, None)


def test_raw_file_of_one_sample(tmp_path):
    sample = k400_samples()['d']
    raw_file = write_pickle(tmp_path / 'one.pkl', {f: sample[f] for f in ('frame_inds', 'keypoint', 'box_score')})
    light = {f: v for f, v in sample.items() if f not in ('frame_inds', 'keypoint', 'box_score')}
    path = write_pickle(tmp_path / 'ann.pkl', [dict(light, raw_file=raw_file)])
    out = PoseDataset(path, [dict(type='DecompressPose')], box_thr=0.5)[0]
    assert out['keypoint'].shape == (1, 7, 17, 2)
    other = write_pickle(tmp_path / 'other.pkl', {'someone_else': {'keypoint': 1}})
    path = write_pickle(tmp_path / 'ann2.pkl', [dict(light, raw_file=other)])
    with pytest.raises(AnnotationError, match=r"other\.pkl.*no entry 'k400_d'"):
        PoseDataset(path, None)[0]


def test_compress_annotation_round_trips_through_decompress_pose():
    rng = np.random.default_rng(0)
    kp = (rng.random((2, 9, 17, 2)) * 200).astype(np.float32)
    score = rng.random((2, 9, 17)).astype(np.float32) + 0.01
    score[1, 4:] = 0  # the second person leaves after frame 3; the first is there throughout
    ann = dict(frame_dir='x', label=0, total_frames=9, keypoint=kp, keypoint_score=score)
    packed = compressed_pose.compress_annotation(ann, box_score=np.full((2, 9), 0.7, np.float32))
    assert packed['keypoint'].shape == (13, 17, 3) and packed['valid'] == {0.5: 9, 0.6: 9, 0.7: 9, 0.8: 0, 0.9: 0}
    np.testing.assert_array_equal(packed['frame_inds'], [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8])
    out = DecompressPose(squeeze=False)(copy.deepcopy(packed))
    np.testing.assert_array_equal(out['keypoint'], kp.astype(np.float16) * (score[..., None] > 0))
    np.testing.assert_array_equal(out['keypoint_score'], score.astype(np.float16))


# ---------------------------------------------------------------- memcached


class FakeMemcache:
    """get / set with values stored as bytes through the same serde as the real client."""

    def __init__(self):
        self.store, self.serde = {}, compressed_pose._Serde()

    def get(self, key):
        if key not in self.store:
            return None
        return self.serde.deserialize(key, *self.store[key])

    def set(self, key, value):
        self.store[key] = self.serde.serialize(key, value)


def test_memcached_fills_the_cache_from_the_raw_file(tmp_path, monkeypatch):
    path = write_k400(tmp_path)
    client = FakeMemcache()
    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: client)
    dataset = PoseDataset(path, [dict(type='DecompressPose')], split='val', box_thr=0.5, memcached=True,
                          mc_cfg=('localhost', 22077))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        first = dataset[1]
    assert not [w for w in record if 'mc_cfg' in str(w.message)]
    assert set(client.store) == {'k400_d', 'k400_e'}  # the whole raw file is cached on a miss
    os.remove(tmp_path / 'kpfile_0.pkl')
    again = dataset[1]  # served from the cache
    np.testing.assert_array_equal(first['keypoint'], again['keypoint'])
    assert pickle.loads(pickle.dumps(dataset))._raw_reader._client is None


def test_memcached_without_pymemcache_warns_once_and_reads_files(k400_file, monkeypatch):

    def no_pymemcache(cfg, unsafe_pickle=False):
        raise ImportError('No module named pymemcache')

    monkeypatch.setattr(compressed_pose, '_memcache_client', no_pymemcache)
    dataset = PoseDataset(k400_file, [dict(type='DecompressPose')], split='val', box_thr=0.5, memcached=True,
                          mc_cfg=('localhost', 22077))
    with pytest.warns(UserWarning, match=r"mc_cfg=\('localhost', 22077\).*pymemcache is not installed") as record:
        out = dataset[1]
        dataset[1]
        PoseDataset(k400_file, None, split='val', memcached=True, mc_cfg=('localhost', 22077))[1]
    assert len([w for w in record if 'mc_cfg' in str(w.message)]) == 1
    assert out['keypoint'].shape == (2, 6, 17, 2)


def test_memcached_server_that_does_not_answer(k400_file, monkeypatch):

    class Refusing:

        def get(self, key):
            raise ConnectionRefusedError(111, 'Connection refused')

    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: Refusing())
    dataset = PoseDataset(k400_file, [dict(type='DecompressPose')], split='val', box_thr=0.5, memcached=True,
                          mc_cfg=('127.0.0.1', 1))
    with pytest.warns(UserWarning, match=r"mc_cfg=\('127\.0\.0\.1', 1\).*ConnectionRefusedError") as record:
        out = dataset[1]
        dataset[1]
    assert len([w for w in record if 'mc_cfg' in str(w.message)]) == 1
    assert out['keypoint'].shape == (2, 6, 17, 2)


def test_real_client_against_a_closed_port(k400_file):
    pytest.importorskip('pymemcache')
    dataset = PoseDataset(k400_file, None, split='val', memcached=True, mc_cfg=('127.0.0.1', 1))
    with pytest.warns(UserWarning, match=r"mc_cfg=\('127\.0\.0\.1', 1\)"):
        assert dataset[1]['keypoint'].shape == (7, 17, 3)


# ---------------------------------------------------------------- the four K400 configs


def unwrap(ds_cfg):
    while ds_cfg.get('type') == 'RepeatDataset':
        ds_cfg = ds_cfg['dataset']
    return ds_cfg


def k400_datasets(cfg, path):
    out = {}
    for name in ('train', 'val', 'test'):
        ds_cfg = copy.deepcopy(unwrap(cfg.data[name]))
        ds_cfg['ann_file'] = path
        out[name] = build_dataset(ds_cfg, dict(test_mode=name != 'train'))
    return out


@pytest.mark.parametrize('config', K400_CONFIGS)
def test_k400_config_has_pyskl_settings(config):
    cfg = Config.fromfile(str(REPO_ROOT / config))
    layout = tuple(int(c) for c in config.split('_')[2])
    assert cfg.model.backbone.stage_blocks == layout
    assert cfg.model.cls_head.num_classes == 400
    for name in ('train', 'val', 'test'):
        ds = unwrap(cfg.data[name])
        assert ds.ann_file.startswith('data/k400/')
        assert ds.box_thr == 0.5 and ds.memcached is True and tuple(ds.mc_cfg) == ('localhost', 22077)
        assert ds.pipeline[0] == dict(type='DecompressPose', squeeze=True)
        assert ds.split == ('train' if name == 'train' else 'val')
    assert unwrap(cfg.data.train).valid_ratio == 0.0
    model = build_model(cfg.model)
    assert [len(getattr(model.backbone, name)) for name in model.backbone.res_layers] == list(layout)


@pytest.mark.parametrize('config', K400_CONFIGS)
def test_k400_config_pipelines_run_on_compressed_data(config, k400_file):
    cfg = Config.fromfile(str(REPO_ROOT / config))
    with pytest.warns(UserWarning, match='mc_cfg'):  # the test machine has no memcached server
        datasets = k400_datasets(cfg, k400_file)
        assert [len(datasets[n]) for n in ('train', 'val', 'test')] == [3, 2, 2]
        for index in range(3):  # two persons with empty frames, a crowd, a raw-file sample
            sample = datasets['train'][index]
            assert tuple(sample['imgs'].shape) == (1, 17, 48, 56, 56) and torch.isfinite(sample['imgs']).all()
            assert sample['imgs'].max() > 0.5
        assert sample['label'].item() == 0
        val = datasets['val'][1]
        assert tuple(val['imgs'].shape) == (1, 17, 48, 64, 64) and val['imgs'].max() > 0.5
        test = datasets['test'][0]
        assert tuple(test['imgs'].shape) == (20, 17, 48, 64, 64)  # 10 clips and their mirrored copies
        assert torch.isfinite(test['imgs']).all() and test['imgs'].max() > 0.3  # keypoint scores of 0.5


def small_input(pipeline):
    """The pipeline with 8-frame clips of 32x32: enough to run the model on a CPU."""
    pipeline = copy.deepcopy(pipeline)
    for step in pipeline:
        if step['type'] == 'UniformSampleFrames':
            step['clip_len'], step['num_clips'] = 8, 1
        if step['type'] == 'Resize' and step.get('keep_ratio') is False:
            step['scale'] = (32, 32)
    return pipeline


@pytest.mark.parametrize('config', K400_CONFIGS)
def test_k400_model_forward_on_one_sample(config, k400_file):
    cfg = Config.fromfile(str(REPO_ROOT / config))
    for name in ('train', 'val'):
        ds = unwrap(cfg.data[name])
        ds.pipeline = small_input(ds.pipeline)
        ds.memcached = False
    datasets = k400_datasets(cfg, k400_file)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    train = datasets['train'][1]  # the crowd
    assert tuple(train['imgs'].shape) == (1, 17, 8, 32, 32)
    model.train()
    losses = model(train['imgs'][None], train['label'][None], return_loss=True)
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'].item() > 0
    model.eval()
    with torch.no_grad():
        scores = model(datasets['val'][1]['imgs'][None], return_loss=False)
    assert scores.shape == (1, 400)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)  # average_clips='prob'


def test_pymemcache_client_and_pyskl_cache_entries(k400_file, monkeypatch):
    pytest.importorskip('pymemcache')
    from pymemcache import serde
    from pymemcache.test.utils import MockMemcacheClient

    # an entry written by pyskl (pymemcache's pickle serde) is read back by our serde
    entry = dict(frame_inds=np.array([0, 3]), keypoint=np.stack([person(50, 50, 0.8)] * 2),
                 box_score=np.array([0.9, 0.9], np.float32))
    back = compressed_pose._Serde().deserialize('k400_e', *serde.pickle_serde.serialize('k400_e', entry))
    np.testing.assert_array_equal(back['keypoint'], entry['keypoint'])
    # and pymemcache's client interface carries our serde: a cached entry wins over the raw file
    client = MockMemcacheClient(serde=compressed_pose._Serde())
    client.set('k400_e', entry)
    monkeypatch.setattr(compressed_pose, '_memcache_client', lambda cfg, unsafe_pickle=False: client)
    dataset = PoseDataset(k400_file, [dict(type='DecompressPose')], split='val', box_thr=0.5, memcached=True,
                          mc_cfg=('localhost', 22077))
    out = dataset[1]
    assert out['keypoint'].shape == (1, 2, 17, 2)
    np.testing.assert_array_equal(out['keypoint'][0, 1], FIGURE + [50, 50])
