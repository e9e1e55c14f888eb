import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from pyskl.models import build_backbone, build_model

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = REPO_ROOT.parent / 'shared' / 'compat' / 'pyskl_golden.pkl.gz'

pytestmark = pytest.mark.skipif(not GOLDEN.is_file(), reason=f'golden file {GOLDEN} is absent')


@pytest.fixture(scope='module')
def golden_models():
    with gzip.open(GOLDEN, 'rb') as f:
        return {m['name']: m for m in pickle.load(f)['models']}


def build_recognizer(entry):
    backbone = build_backbone(dict(entry['backbone']))
    return build_model(
        dict(
            type='Recognizer3D',
            backbone=dict(entry['backbone']),
            cls_head=dict(type='I3DHead', in_channels=backbone.feat_dim, num_classes=entry['num_classes']),
            test_cfg=dict(average_clips='prob')))


@pytest.mark.parametrize('name', ['standard', 'tiny'])
def test_state_dict_keys(golden_models, name):
    entry = golden_models[name]
    model = build_recognizer(entry)
    ours = sorted((k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items())
    theirs = sorted((k, tuple(shape), str(dtype)) for k, shape, dtype in entry['keys'])
    assert ours == theirs


@pytest.fixture(scope='module')
def tiny_loaded(golden_models):
    entry = golden_models['tiny']
    model = build_recognizer(entry)
    result = model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in entry['state_dict'].items()},
                                   strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return model.eval(), entry


def test_tiny_backbone_output(tiny_loaded):
    model, entry = tiny_loaded
    imgs = torch.from_numpy(entry['input'])
    with torch.no_grad():
        out = model.backbone(imgs.reshape((-1, ) + imgs.shape[2:]))
    np.testing.assert_allclose(out.numpy(), entry['backbone_out'], rtol=1e-4, atol=1e-6)


def test_tiny_cls_score(tiny_loaded):
    model, entry = tiny_loaded
    with torch.no_grad():
        scores = model(torch.from_numpy(entry['input']), return_loss=False)
    assert scores.shape == entry['cls_score'].shape
    np.testing.assert_allclose(scores, entry['cls_score'], rtol=1e-4, atol=1e-7)


def test_tiny_backbone_from_pretrained_checkpoint(tiny_loaded, tmp_path):
    model, entry = tiny_loaded
    path = tmp_path / 'posec3d_tiny.pth'
    torch.save(dict(state_dict={k: torch.from_numpy(np.asarray(v)) for k, v in entry['state_dict'].items()}), path)
    backbone = build_backbone(dict(entry['backbone'], pretrained=str(path)))
    backbone.init_weights()
    backbone.eval()
    imgs = torch.from_numpy(entry['input'])
    with torch.no_grad():
        out = backbone(imgs.reshape((-1, ) + imgs.shape[2:]))
    np.testing.assert_allclose(out.numpy(), entry['backbone_out'], rtol=1e-4, atol=1e-6)
