"""Every config in configs/ loads, builds its model, and builds its datasets whose pipelines run on a sample."""
import copy
import pickle
from pathlib import Path

import pytest
import torch
from mmcv import Config
from mmcv.parallel import collate

from pyskl.datasets import build_dataset
from pyskl.datasets.compressed_pose import compress_annotation
from pyskl.models import build_model

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO_ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)


def _ids(paths):
    return [str(p.relative_to(REPO_ROOT / 'configs')) for p in paths]


def _dataset_cfgs(data_cfg):
    """(name, dataset config) pairs with RepeatDataset / ConcatDataset unwrapped."""
    for name in ('train', 'val', 'test'):
        cfg = data_cfg[name]
        while cfg.get('type') == 'RepeatDataset':
            cfg = cfg['dataset']
        yield name, cfg


@pytest.fixture(scope='module')
def tiny_pickle(tmp_path_factory):
    from pyskl.datasets.synthetic import generate_synthetic_dataset
    data = generate_synthetic_dataset(num_train_per_class=1, num_val_per_class=0, seed=3, min_frames=10, max_frames=14)
    return tmp_path_factory.mktemp('cfg') / 'tiny.pkl', data


def _offline_model_cfg(model_cfg):
    """The test machine has no bert-base-uncased weights: build text encoders from the packaged MiniLM instead."""
    model_cfg = copy.deepcopy(model_cfg)
    if model_cfg.get('text_encoder_init') not in (None, 'minilm'):
        model_cfg['text_encoder_init'] = 'minilm'
    return model_cfg


def test_there_are_configs_for_every_family():
    names = _ids(CONFIGS)
    for family in ('posec3d/', 'demo/'):
        assert any(n.startswith(family) for n in names), family
    assert len([n for n in names if n.startswith('posec3d/')]) >= 20


@pytest.mark.parametrize('path', CONFIGS, ids=_ids(CONFIGS))
def test_config_builds_model_and_datasets(path, tiny_pickle, tmp_path):
    cfg = Config.fromfile(str(path))
    for key in ('model', 'data', 'optimizer', 'lr_config', 'total_epochs', 'log_config', 'checkpoint_config'):
        assert key in cfg, f'{path}: missing {key}'
    assert not str(cfg.get('work_dir') or '').startswith('/'), 'configs must not hard-code absolute work dirs'
    model = build_model(_offline_model_cfg(cfg.model))
    assert sum(p.numel() for p in model.parameters()) > 0

    pkl_path, data = tiny_pickle
    splits = set()
    for name, ds_cfg in _dataset_cfgs(cfg.data):
        assert not str(ds_cfg['ann_file']).startswith('/'), f'{path}: data.{name}.ann_file must be relative'
        assert str(ds_cfg['ann_file']).startswith('data/'), f'{path}: data.{name}.ann_file should live under data/'
        if ds_cfg.get('split'):
            splits.add(ds_cfg['split'])
    frame_dirs = [a['frame_dir'] for a in data['annotations']]
    annotations = data['annotations']
    if any((ds.get('pipeline') or [{}])[0].get('type') == 'DecompressPose' for _, ds in _dataset_cfgs(cfg.data)):
        annotations = [compress_annotation(a) for a in annotations]  # pyskl's compressed Kinetics-400 format
    local = dict(split={s: frame_dirs for s in splits}, annotations=annotations)
    local_path = tmp_path / pkl_path.name
    with open(local_path, 'wb') as f:
        pickle.dump(local, f)

    for name, ds_cfg in _dataset_cfgs(cfg.data):
        ds_cfg = copy.deepcopy(ds_cfg)
        ds_cfg['ann_file'] = str(local_path)
        dataset = build_dataset(ds_cfg, dict(test_mode=name != 'train'))
        subset = ds_cfg.get('class_subset')  # zero-shot configs keep the seen or the unseen classes only
        expected = [a for a in data['annotations'] if subset is None or a['label'] in subset]
        assert len(dataset) == len(expected)
        sample = dataset[0]
        if 'imgs' in sample:
            imgs = sample['imgs']
            assert isinstance(imgs, torch.Tensor) and imgs.ndim == 5, f'{name}: imgs {getattr(imgs, "shape", None)}'
            assert torch.isfinite(imgs).all()
        else:  # device-side heatmaps: the pipeline ends at compact keypoints and the model draws the volume
            kp = sample['keypoint']
            assert isinstance(kp, torch.Tensor) and kp.ndim == 5 and torch.isfinite(kp).all()
            assert sample['keypoint_score'].shape == kp.shape[:4]
            imgs = model.keypoints_to_imgs(collate([sample]), train=name == 'train')
            assert imgs.ndim == 6 and torch.isfinite(imgs).all()
        if name == 'train':
            assert 'label' in sample
