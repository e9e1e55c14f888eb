"""tools/test.py refuses a checkpoint that does not fit, writes embeddings only on request, checks every label."""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from analysis_helpers import load_tool
from e2e_utils import REPO_ROOT, make_tiny_dataset, tool_env, write_tiny_config
from mmcv import Config

from pyskl.models import build_model
from pyskl.utils.checkpoint import save_checkpoint_atomic

TINY_MODEL = "model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))\n"


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('strict')
    ann = make_tiny_dataset(root / 'tiny.pkl', train_per_class=1)
    config = write_tiny_config(root / 'tiny.py', ann, extra=TINY_MODEL)
    cfg = Config.fromfile(str(config))
    torch.manual_seed(0)
    save_checkpoint_atomic(build_model(cfg.model), str(root / 'fits.pth'))
    other = cfg.model.copy()
    other.cls_head = dict(other.cls_head, num_classes=10)
    state = build_model(other).state_dict()
    state['backbone.extra.weight'] = torch.zeros(1)
    del state['backbone.conv1.conv.weight']
    torch.save(dict(state_dict=state), root / 'other.pth')
    return dict(root=root, ann=ann, config=config, tool=load_tool('test.py'))


@pytest.mark.slow
def test_a_checkpoint_that_does_not_fit_fails_with_the_keys(setup):
    proc = subprocess.run([sys.executable, str(REPO_ROOT / 'tools' / 'test.py'), str(setup['config']), '-C',
                           str(setup['root'] / 'other.pth')], cwd=str(REPO_ROOT), env=tool_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert 'top1_acc' not in proc.stdout
    err = proc.stderr
    assert str(setup['root'] / 'other.pth') in err
    assert 'backbone.conv1.conv.weight' in err and 'backbone.extra.weight' in err
    assert 'cls_head.fc_cls.weight (10, 64) in the checkpoint vs (18, 64) in the model' in err
    assert '--non-strict' in err


def test_non_strict_allows_a_deliberate_partial_load(setup, capsys):
    metrics = setup['tool'].main([str(setup['config']), '-C', str(setup['root'] / 'other.pth'), '--non-strict'])
    assert 0.0 <= metrics['top1_acc'] <= 1.0


def test_a_fitting_checkpoint_is_scored(setup):
    metrics = setup['tool'].main([str(setup['config']), '-C', str(setup['root'] / 'fits.pth')])
    assert set(metrics) >= {'top1_acc', 'mean_class_accuracy'}


def test_dump_features_writes_embeddings_and_no_metrics(setup, capsys):
    out = setup['root'] / 'features.pkl'
    assert setup['tool'].main([str(setup['config']), '-C', str(setup['root'] / 'fits.pth'), '--dump-features',
                               str(out)]) is None
    with open(out, 'rb') as f:
        features = np.stack(pickle.load(f))
    assert features.shape == (18, 64)  # the head's input width, not its 18 classes
    assert 'top1_acc' not in capsys.readouterr().out


@pytest.mark.parametrize('extra', [['--out', 'x.pkl'], ['--eval', 'top_k_accuracy']])
def test_features_are_never_scored(setup, extra):
    args = [str(setup['config']), '-C', str(setup['root'] / 'fits.pth')]
    with pytest.raises(SystemExit, match='--dump-features'):
        setup['tool'].main(args + ['--cfg-options', 'model.test_cfg.feat_ext=True'] + extra)
    with pytest.raises(SystemExit, match='computes no metrics'):
        setup['tool'].main(args + ['--dump-features', str(setup['root'] / 'f.pkl')] + extra)


def test_unknown_data_key_is_refused(setup):
    with pytest.raises(KeyError, match='videos_per_gpus'):
        setup['tool'].main([str(setup['config']), '-C', str(setup['root'] / 'fits.pth'), '--cfg-options',
                            'data.videos_per_gpus=4'])


def test_labels_are_checked_against_the_model(setup):
    with open(setup['ann'], 'rb') as f:
        data = pickle.load(f)
    frame_dir = data['split']['val'][0]
    for anno in data['annotations']:
        if anno['frame_dir'] == frame_dir:
            anno['label'] = 18
    bad = setup['root'] / 'bad_label.pkl'
    with open(bad, 'wb') as f:
        pickle.dump(data, f)
    with pytest.raises(ValueError) as err:
        setup['tool'].main([str(setup['config']), '-C', str(setup['root'] / 'fits.pth'), '--cfg-options',
                            f'data.test.ann_file={bad}'])
    assert frame_dir in str(err.value) and '18' in str(err.value)


def test_a_malicious_checkpoint_runs_nothing(setup, tmp_path):
    marker = tmp_path / 'marker'

    class Payload:
        def __reduce__(self):
            return open, (str(marker), 'w')
    torch.save(dict(state_dict={}, extra=Payload()), tmp_path / 'evil.pth')
    with pytest.raises(SystemExit, match='safe loader refuses'):
        setup['tool'].main([str(setup['config']), '-C', str(tmp_path / 'evil.pth')])
    assert not marker.exists()



def test_unsafe_load_is_an_explicit_flag(setup, tmp_path):
    from pyskl.utils.checkpoint import set_unsafe_load, unsafe_load_enabled
    marker = tmp_path / 'marker'

    class Payload:
        def __reduce__(self):
            return open, (str(marker), 'w')
    torch.save(dict(state_dict={}, extra=Payload()), tmp_path / 'evil.pth')
    try:
        with pytest.raises(SystemExit, match='missing keys'):  # unpickled in full, then refused as a misfit
            setup['tool'].main([str(setup['config']), '-C', str(tmp_path / 'evil.pth'), '--unsafe-load'])
        assert marker.exists() and unsafe_load_enabled()
    finally:
        set_unsafe_load(False)
