"""End to end for the ITM and PACL recognizers: tools/train.py --validate --test-last, then tools/test.py, on a tiny
synthetic set with the CPU demo configs (tiny video encoder, the packaged MiniLM text encoder kept frozen)."""
import pickle

import numpy as np
import pytest
from e2e_utils import (
    REPO_ROOT,
    last_json_line,
    make_tiny_dataset,
    python_tool,
    read_json_log,
    run_tool,
    write_tiny_config,
)

DEMOS = dict(itm='configs/demo/visece_itm_minilm_synthetic.py', pacl='configs/demo/visece_pacl_minilm_synthetic.py')
# Real MiniLM sentence features (a random tiny BERT gives 18 nearly identical class sentences), frozen so that a
# step only updates the small parts; a 64-channel video encoder; 10 epochs of 5 batches.
TINY = """model = dict(video_encoder=dict(base_channels=4, res_out_channels=64), frozen_bert=True)
data['videos_per_gpu'] = 8  # (a new `data = dict(...)` would replace the tiny set's)
optimizer = dict(lr=5e-3)
lr_config = dict(warmup=None)
total_epochs = 10
evaluation = dict(interval=5)
checkpoint_config = dict(interval=5)
"""
FIRST_LAST = 8  # logged iterations averaged at the start and at the end


@pytest.fixture(scope='module')
def tiny_ann(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp('itm_pacl') / 'tiny.pkl')


@pytest.fixture(scope='module', params=sorted(DEMOS))
def trained(request, tiny_ann):
    family = request.param
    root = tiny_ann.parent / family
    root.mkdir()
    config = write_tiny_config(root / f'tiny_{family}.py', tiny_ann, base=DEMOS[family], extra=TINY)
    work_dir = root / 'work'
    out = run_tool(python_tool('train.py') + [str(config), '--validate', '--test-last', '--seed', '0',
                                             '--deterministic', '--work-dir', str(work_dir)], cwd=REPO_ROOT)
    return dict(family=family, root=root, config=config, work_dir=work_dir, out=out)


@pytest.mark.slow
def test_training_lowers_the_loss_and_validates(trained):
    records = read_json_log(trained['work_dir'])
    train = [r for r in records if r['mode'] == 'train']
    val = [r for r in records if r['mode'] == 'val']
    assert len(train) >= 4 * FIRST_LAST, f'only {len(train)} logged iterations'
    assert all(np.isfinite(r['loss']) for r in train)
    first = np.mean([r['loss'] for r in train[:FIRST_LAST]])
    last = np.mean([r['loss'] for r in train[-FIRST_LAST:]])
    assert last < 0.9 * first, [round(r['loss'], 3) for r in train]
    if trained['family'] == 'itm':
        assert all({'loss_cls', 'loss_itm', 'acc_itm', 'temp'} <= set(r) for r in train)
        assert all(0 <= r['acc_itm'] <= 1 for r in train)
    else:
        assert all({'loss_cls', 'temp'} <= set(r) for r in train)
    assert len(val) == 2 and all(0.0 <= r['top1_acc'] <= 1.0 for r in val)
    assert (trained['work_dir'] / 'epoch_10.pth').exists() and (trained['work_dir'] / 'last_pred.pkl').exists()


@pytest.mark.slow
def test_test_tool_reproduces_the_last_checkpoint_scores(trained):
    work_dir = trained['work_dir']
    out_file = trained['root'] / 'scores.pkl'
    out = run_tool(python_tool('test.py') + [str(trained['config']), '-C', str(work_dir / 'latest.pth'), '--out',
                                            str(out_file), '--eval', 'top_k_accuracy', 'mean_class_accuracy'],
                   cwd=REPO_ROOT)
    metrics = last_json_line(out)
    assert set(metrics) >= {'top1_acc', 'top5_acc', 'mean_class_accuracy'}
    assert 0 <= metrics['top1_acc'] <= metrics['top5_acc'] <= 1
    with open(out_file, 'rb') as f:
        scores = np.stack(pickle.load(f))
    with open(work_dir / 'last_pred.pkl', 'rb') as f:
        after_training = np.stack(pickle.load(f))
    assert scores.shape == (18, 18)
    np.testing.assert_allclose(scores, after_training, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
