"""Real pose-estimator clips (../shared/data) through the training and test pipelines of the demo configs and a
forward pass of each recognizer family: nothing crashes and every score is finite."""
import copy
import os.path as osp

import pytest
import torch
from mmcv import Config
from mmcv.parallel import collate

from pyskl.datasets import build_dataset
from pyskl.models import build_model

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REAL_PKL = osp.join(REPO_ROOT, '..', 'shared', 'data', 'wlasl_subset_234_coco17_2d.pkl')
pytestmark = pytest.mark.skipif(not osp.isfile(REAL_PKL), reason='the real-data pickle in ../shared/data is absent')

TINY_VIDEO = dict(base_channels=4, stage_blocks=(1, 1, 1))


def _dataset(cfg, part: str):
    ds_cfg = copy.deepcopy(cfg.data[part])
    ds_cfg.update(ann_file=REAL_PKL, split='test')
    return build_dataset(ds_cfg, dict(test_mode=part != 'train'))


@pytest.mark.parametrize('part', ['train', 'test'])
def test_every_real_clip_passes_the_pipeline(part):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/demo/posec3d_synthetic.py'))
    dataset = _dataset(cfg, part)
    assert len(dataset) == 234
    for idx in range(len(dataset)):
        imgs = dataset[idx]['imgs']
        assert imgs.shape[1:] == (17, 16, 24, 24) and torch.isfinite(imgs).all(), dataset.video_infos[idx]['frame_dir']
        assert imgs.max() <= 1.0 + 1e-6


@pytest.mark.parametrize('config', ['posec3d_synthetic', 'visece_minilm_synthetic'])
def test_forward_on_real_clips(config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, f'configs/demo/{config}.py'))
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.type == 'Recognizer3D':
        model_cfg.backbone.update(TINY_VIDEO)
        model_cfg.cls_head.in_channels = 64
    else:
        model_cfg.video_encoder.update(TINY_VIDEO, res_out_channels=64)
    model = build_model(model_cfg).eval()
    dataset = _dataset(cfg, 'test')
    batch = collate([dataset[i] for i in range(0, 234, 26)])  # 9 clips from across the file
    with torch.no_grad():
        scores = model(return_loss=False, imgs=batch['imgs'])
    assert scores.shape == (9, 18)
    assert torch.isfinite(torch.as_tensor(scores)).all()
    # training step on the same real clips with labels mapped into the demo's classes
    model.train()
    label = torch.arange(9) % 18
    out = model.train_step(dict(imgs=batch['imgs'], label=label), None)
    assert torch.isfinite(out['loss'])
