"""Exact resume: a run killed with SIGKILL mid-epoch, during evaluation and while writing a checkpoint, then
rerun, ends bitwise equal to the uninterrupted run (weights, optimizer state, every validation metric, the best
checkpoint), in one process and in two gloo processes. A truncated or dangling ``latest.pth`` falls back to the
newest readable epoch checkpoint and still ends equal."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest
import torch
from e2e_utils import REPO_ROOT, make_tiny_dataset, tool_env, write_tiny_config

from pyskl.utils.checkpoint import load_checkpoint_file

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.path.isdir('/proc'), reason='kill_at.py reads /proc')]

TINY = """model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))
total_epochs = 3
"""
ARGS = ['--seed', '0', '--deterministic', '--validate']
KILLS = ['train:2:3', 'eval:2:2', 'checkpoint:3']
KILL_AT = str(REPO_ROOT / 'tests' / 'helpers' / 'kill_at.py')
TRAIN = str(REPO_ROOT / 'tools' / 'train.py')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def command(mode, config, work_dir, kill=None):
    script = [KILL_AT, kill, TRAIN] if kill else [TRAIN]
    args = [str(config), '--work-dir', str(work_dir)] + ARGS
    if mode == 'single':
        return [sys.executable] + script + args
    return ([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port',
             str(free_port())] + script + args + ['--launcher', 'pytorch'])


def run(cmd, expect_killed=False):
    proc = subprocess.run(cmd, cwd=str(REPO_ROOT), env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=900)
    if expect_killed:
        assert proc.returncode == -signal.SIGKILL, f'not killed ({proc.returncode}):\n{proc.stdout[-4000:]}'
    else:
        assert proc.returncode == 0, f'failed ({proc.returncode}):\n{proc.stdout[-6000:]}'
    return proc.stdout


def val_records(work_dir):
    """The validation metrics of every epoch (the last record of each epoch over all the run's logs)."""
    records = {}
    for log in sorted(work_dir.glob('*.log.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if record.get('mode') == 'val':
                records[record['epoch']] = {k: v for k, v in record.items() if k not in ('time', 'data_time')}
    return records


def assert_same_run(reference, resumed):
    ref = load_checkpoint_file(str(reference / 'epoch_3.pth'))
    res = load_checkpoint_file(str(resumed / 'epoch_3.pth'))
    assert set(ref['state_dict']) == set(res['state_dict'])
    for key, value in ref['state_dict'].items():
        assert torch.equal(value, res['state_dict'][key]), key
    for ref_state, res_state in zip(ref['optimizer']['state'].values(), res['optimizer']['state'].values()):
        assert torch.equal(ref_state['momentum_buffer'], res_state['momentum_buffer'])
    assert val_records(resumed) == val_records(reference)
    assert sorted(val_records(reference)) == [1, 2, 3]
    best = sorted(p.name for p in reference.glob('best_*.pth'))
    assert best and sorted(p.name for p in resumed.glob('best_*.pth')) == best  # no orphans, none lost
    ref_msgs, res_msgs = ref['meta']['hook_msgs'], res['meta']['hook_msgs']
    assert res_msgs['best_score'] == ref_msgs['best_score']
    assert os.path.basename(res_msgs['best_ckpt']) == os.path.basename(ref_msgs['best_ckpt']) == best[0]
    ref_best = load_checkpoint_file(str(reference / best[0]))['state_dict']
    res_best = load_checkpoint_file(str(resumed / best[0]))['state_dict']
    assert all(torch.equal(v, res_best[k]) for k, v in ref_best.items())
    assert not list(resumed.glob('*.tmp'))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume')
    ann = make_tiny_dataset(root / 'tiny.pkl', train_per_class=1)
    config = write_tiny_config(root / 'tiny.py', ann, extra=TINY)
    return root, config


@pytest.mark.parametrize('mode', ['single', 'gloo'])
def test_killed_three_times_then_rerun_is_bitwise_equal(setup, mode):
    root, config = setup
    reference, resumed = root / f'{mode}_reference', root / f'{mode}_killed'
    run(command(mode, config, reference))
    run(command(mode, config, resumed, kill='train:2:3'), expect_killed=True)
    assert (resumed / 'epoch_1.pth').exists() and not (resumed / 'epoch_2.pth').exists()
    run(command(mode, config, resumed, kill='eval:2:2'), expect_killed=True)
    assert not (resumed / 'epoch_2.pth').exists()
    run(command(mode, config, resumed, kill='checkpoint:3'), expect_killed=True)
    assert (resumed / 'epoch_2.pth').exists() and list(resumed.glob('.epoch_3.pth.*.tmp'))  # half written
    assert not (resumed / 'epoch_3.pth').exists()
    out = run(command(mode, config, resumed))
    assert 'resumed epoch 2' in out
    assert_same_run(reference, resumed)
    assert not list(resumed.glob('.*.tmp'))  # the half-written file of the killed attempt is gone
    records = sorted(resumed.glob('*.run.json'))
    assert len(records) == 4 and len({json.loads(p.read_text())['run_id'] for p in records}) == 1
    metas = [load_checkpoint_file(str(resumed / f'epoch_{e}.pth'))['meta'] for e in (1, 2, 3)]
    assert len({m['run_id'] for m in metas}) == 1 and len({m['run_timestamp'] for m in metas}) == 3
    if mode == 'gloo':
        assert len(metas[2]['rng_states']) == 2


def test_truncated_or_dangling_latest_falls_back_and_ends_equal(setup):
    root, config = setup
    reference = root / 'single_reference'
    if not (reference / 'epoch_3.pth').exists():
        run(command('single', config, reference))
    for damage in ('truncated', 'dangling'):
        work_dir = root / f'latest_{damage}'
        shutil.copytree(reference, work_dir, symlinks=True)
        target = work_dir / 'epoch_3.pth'
        if damage == 'truncated':
            data = target.read_bytes()
            target.write_bytes(data[:len(data) // 3])
        else:
            target.unlink()
        out = run(command('single', config, work_dir))
        assert str(work_dir / 'latest.pth') in out
        assert ('damaged or truncated' if damage == 'truncated' else 'which does not exist') in out
        assert f'resuming from {work_dir / "epoch_2.pth"} instead' in out
        assert_same_run(reference, work_dir)
