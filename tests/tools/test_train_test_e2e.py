"""End to end: tools/train.py --validate --test-last --test-best, then tools/test.py, on a tiny synthetic set."""
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

TINY_MODEL = """model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))"""


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    ann = make_tiny_dataset(root / 'tiny.pkl')
    config = write_tiny_config(root / 'tiny_posec3d.py', ann, extra=TINY_MODEL)
    work_dir = root / 'work'
    out = run_tool(python_tool('train.py') + [str(config), '--validate', '--test-last', '--test-best', '--seed', '0',
                                             '--work-dir', str(work_dir)], cwd=REPO_ROOT)
    return dict(root=root, ann=ann, config=config, work_dir=work_dir, out=out)


def test_train_writes_checkpoints_logs_and_best(trained):
    work_dir = trained['work_dir']
    assert (work_dir / 'epoch_1.pth').exists() and (work_dir / 'epoch_2.pth').exists()
    assert (work_dir / 'latest.pth').resolve() == (work_dir / 'epoch_2.pth').resolve()
    assert list(work_dir.glob('best_top1_acc_epoch_*.pth')), 'save_best did not keep a best checkpoint'
    assert not list(work_dir.glob('*.tmp')), 'a temporary checkpoint file was left behind'
    records = read_json_log(work_dir)
    train = [r for r in records if r['mode'] == 'train']
    val = [r for r in records if r['mode'] == 'val']
    assert train and all(np.isfinite(r['loss']) for r in train)
    assert all('data_time' in r and 'time' in r for r in train)
    assert len(val) == 2 and all(0.0 <= r['top1_acc'] <= 1.0 for r in val)
    assert (work_dir / 'last_pred.pkl').exists() and (work_dir / 'best_pred.pkl').exists()
    assert 'Testing results of the last checkpoint' in (sorted(work_dir.glob('*.log'))[-1]).read_text()


def test_test_tool_reproduces_last_checkpoint_scores(trained):
    work_dir = trained['work_dir']
    out_file = trained['root'] / 'scores.pkl'
    out = run_tool(python_tool('test.py') + [str(trained['config']), '-C', str(work_dir / 'latest.pth'), '--out',
                                            str(out_file), '--eval', 'top_k_accuracy', 'mean_class_accuracy'],
                   cwd=REPO_ROOT)
    metrics = last_json_line(out)
    assert set(metrics) >= {'top1_acc', 'top5_acc', 'mean_class_accuracy'}
    with open(out_file, 'rb') as f:
        scores = pickle.load(f)
    with open(work_dir / 'last_pred.pkl', 'rb') as f:
        after_training = pickle.load(f)
    assert len(scores) == len(after_training) == 18
    np.testing.assert_allclose(np.stack(scores), np.stack(after_training), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.stack(scores).sum(1), 1.0, rtol=1e-5)


def test_log_starts_with_the_environment_and_the_config(trained):
    log = sorted(trained['work_dir'].glob('*.log'))[0].read_text()
    header = log[:log.index('Epoch [1]')]
    for item in ('Environment info', 'Python: 3.', 'PyTorch: ', 'CUDA available: ', 'mmcv: ', 'transformers: ',
                 'Device: ', 'git commit: ', f'Config ({trained["config"]})', 'total_epochs = 2', 'lr_config = '):
        assert item in header, item


def snapshot(work_dir):
    return {p.name: p.read_bytes() for p in work_dir.iterdir() if p.is_file()}


@pytest.mark.slow
def test_a_changed_config_never_touches_the_work_dir(trained):
    """A sweep edit (lr) or a longer schedule in the same work dir stops before writing; --resume-from / --force
    run in a fresh sub-folder; rerunning the same command continues the run and changes no checkpoint."""
    import subprocess
    import sys

    from e2e_utils import tool_env
    work_dir, config = trained['work_dir'], str(trained['config'])
    train = [sys.executable, str(REPO_ROOT / 'tools' / 'train.py'), config, '--work-dir', str(work_dir), '--seed', '0']
    before = snapshot(work_dir)
    for extra in (['--cfg-options', 'optimizer.lr=0.001'], ['--cfg-options', 'total_epochs=3'], ['--seed', '1'],
                  ['--no-auto-resume']):
        proc = subprocess.run(train + extra, cwd=str(REPO_ROOT), env=tool_env(), capture_output=True, text=True)
        assert proc.returncode != 0, extra
        assert 'Nothing was written' in proc.stderr and '--force' in proc.stderr, proc.stderr[-3000:]
        assert snapshot(work_dir) == before, extra
    assert 'optimizer.lr: 0.05 -> 0.001' in subprocess.run(
        train + ['--cfg-options', 'optimizer.lr=0.001'], cwd=str(REPO_ROOT), env=tool_env(), capture_output=True,
        text=True).stderr

    out = run_tool(train + ['--resume-from', str(work_dir / 'epoch_2.pth'), '--cfg-options', 'total_epochs=3',
                            'evaluation.interval=5', '--validate'], cwd=REPO_ROOT)
    sub_dirs = sorted(work_dir.glob('run_*'))
    assert len(sub_dirs) == 1 and (sub_dirs[0] / 'epoch_3.pth').exists()
    assert 'never evaluates' in out and f'this run writes to {sub_dirs[0]}' in out
    assert {k: v for k, v in snapshot(work_dir).items()} == before

    run_tool(train, cwd=REPO_ROOT)  # the same config: resumes the finished run, trains nothing
    after = snapshot(work_dir)
    assert {k: v for k, v in after.items() if k.endswith('.pth')} == {k: v for k, v in before.items()
                                                                    if k.endswith('.pth')}
    assert len(list(work_dir.glob('*.run.json'))) == 2


def test_unknown_pipeline_type_lists_known_ones(trained, tmp_path):
    config = tmp_path / 'bad.py'
    config.write_text(f"_base_ = [{str(trained['config'])!r}]\n"
                      "data = dict(train=dict(pipeline=[dict(type='UniformSampleFrame', clip_len=8)]))\n")
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, str(REPO_ROOT / 'tools' / 'train.py'), str(config), '--work-dir',
                           str(tmp_path / 'w')], capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode != 0
    assert "unknown pipeline type 'UniformSampleFrame'" in proc.stderr
    assert 'UniformSampleFrames' in proc.stderr


def test_visece_demo_trains_validates_and_tests(tmp_path):
    """The text-supervised main job end to end: train with validation, then score the checkpoint."""
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl')
    config = write_tiny_config(
        tmp_path / 'tiny_visece.py', ann, base='configs/demo/visece_minilm_synthetic.py',
        extra='model = dict(video_encoder=dict(base_channels=4, stage_blocks=(1, 1, 1), res_out_channels=64))')
    work_dir = tmp_path / 'work'
    run_tool(python_tool('train.py') + [str(config), '--validate', '--seed', '0', '--work-dir', str(work_dir)],
             cwd=REPO_ROOT)
    val = [r for r in read_json_log(work_dir) if r['mode'] == 'val']
    assert len(val) == 2 and all('top1_acc' in r for r in val)
    train = [r for r in read_json_log(work_dir) if r['mode'] == 'train']
    assert all('temp' in r and 0.001 <= r['temp'] <= 0.5 for r in train)
    out = run_tool(python_tool('test.py') + [str(config), '-C', str(work_dir / 'latest.pth'), '--eval',
                                            'top_k_accuracy', 'mean_class_accuracy'], cwd=REPO_ROOT)
    metrics = last_json_line(out)
    assert 0.0 <= metrics['top1_acc'] <= 1.0 and 0.0 <= metrics['mean_class_accuracy'] <= 1.0
