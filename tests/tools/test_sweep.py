"""tools/sweep.py: value syntax, grid expansion, run names, dry-run commands, refusal of another sweep, and a real
tiny sweep that is killed, resumed without rerunning its finished run, and summarised."""
import csv
import importlib.util
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_utils import REPO_ROOT, make_tiny_dataset, read_json_log, tool_env, write_tiny_config

from pyskl.utils.sweep import (
    SweepError,
    expand_grid,
    format_cfg_value,
    parse_set,
    parse_value,
    run_names,
    short_keys,
)

TINY_MODEL = 'model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))'


def load_sweep_tool():
    sys.path.insert(0, str(REPO_ROOT / 'tools'))
    spec = importlib.util.spec_from_file_location('sweep_tool', REPO_ROOT / 'tools' / 'sweep.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def sweep_tool():
    return load_sweep_tool()


@pytest.fixture
def tiny_config(tmp_path):
    # the config only has to load: no data is read by the grid, the names or --dry-run
    return write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'tiny.pkl', extra=TINY_MODEL)


# ------------------------------------------------------------------------------------------------ value syntax
def test_set_values_split_at_top_level_commas_and_parse_like_cfg_options():
    assert parse_set('optimizer.lr=1e-3,1e-4') == ('optimizer.lr', [0.001, 0.0001])
    assert parse_set('data.videos_per_gpu=8,16') == ('data.videos_per_gpu', [8, 16])
    assert parse_set('model.frozen_bert=true,False') == ('model.frozen_bert', [True, False])
    assert parse_set('model.weight_fn=softmax,sigmoid') == ('model.weight_fn', ['softmax', 'sigmoid'])
    assert parse_set('load_from=None') == ('load_from', [None])
    # brackets make one value: a list or a tuple
    assert parse_set('optimizer.lr=[1e-3,1e-4]') == ('optimizer.lr', [[0.001, 0.0001]])
    key, values = parse_set('optimizer.betas=(0.9,0.999),(0.9,0.98)')
    assert values == [(0.9, 0.999), (0.9, 0.98)] and all(isinstance(v, tuple) for v in values)
    for bad in ('optimizer.lr', 'optimizer.lr=1e-3,,1e-4', 'optimizer.lr=[1e-3,1e-4', '=1,2', 'a b=1'):
        with pytest.raises(SweepError):
            parse_set(bad)


@pytest.mark.parametrize('value', [0.001, 1e-05, -1, 3, True, False, None, 'softmax', [1, 2], (0.9, 0.98), [],
                                   [(1, 2), [3]], 'data/nturgbd/ntu60_hrnet.pkl'])
def test_cfg_option_tokens_parse_back_to_the_value(value):
    token = format_cfg_value(value)
    assert parse_value(token) == value and type(parse_value(token)) is type(value)


@pytest.mark.parametrize('value', ['two words', 'a,b', '12'])
def test_values_that_cfg_options_cannot_carry_are_refused(value):
    with pytest.raises(SweepError, match='cannot be passed'):
        format_cfg_value(value)


# -------------------------------------------------------------------------------------------------------- grid
def test_grid_is_the_cartesian_product_with_seeds_innermost():
    runs = expand_grid([('optimizer.lr', [0.1, 0.01]), ('model.x', ['a', 'b', 'c'])], seeds=[0, 1])
    assert len(runs) == 2 * 3 * 2
    assert runs[0] == {'optimizer.lr': 0.1, 'model.x': 'a', 'seed': 0}
    assert runs[1] == {'optimizer.lr': 0.1, 'model.x': 'a', 'seed': 1}
    assert runs[-1] == {'optimizer.lr': 0.01, 'model.x': 'c', 'seed': 1}
    assert len({json.dumps(r, sort_keys=True) for r in runs}) == len(runs)
    assert {(r['optimizer.lr'], r['model.x'], r['seed']) for r in runs} == {
        (lr, x, s) for lr in (0.1, 0.01) for x in 'abc' for s in (0, 1)}


def test_zip_makes_keys_vary_together():
    sets = [('optimizer.lr', [1e-4, 1e-2, 1e-5]), ('a.video_encoder.lr_mult', [1, 1, 100]),
            ('a.text_encoder.lr_mult', [1, 0.01, 1]), ('model.y', [0, 1])]
    runs = expand_grid(sets, zips=['lr,video_encoder.lr_mult,text_encoder.lr_mult'])
    assert len(runs) == 3 * 2
    assert [(r['optimizer.lr'], r['a.video_encoder.lr_mult'], r['a.text_encoder.lr_mult']) for r in runs[::2]] == [
        (1e-4, 1, 1), (1e-2, 1, 0.01), (1e-5, 100, 1)]
    assert [r['model.y'] for r in runs] == [0, 1] * 3
    with pytest.raises(SweepError, match='different lengths'):
        expand_grid([('a', [1, 2]), ('b', [1, 2, 3])], zips=['a,b'])
    with pytest.raises(SweepError, match='matches no'):
        expand_grid([('a', [1, 2]), ('b', [1, 2])], zips=['a,c'])
    with pytest.raises(SweepError, match='ambiguous'):
        expand_grid([('x.lr_mult', [1, 2]), ('y.lr_mult', [1, 2])], zips=['lr_mult,y.lr_mult'])
    with pytest.raises(SweepError, match='two --zip groups'):
        expand_grid([('a', [1]), ('b', [1]), ('c', [1])], zips=['a,b', 'b,c'])


def test_repeated_runs_keys_and_seeds_are_refused():
    with pytest.raises(SweepError, match='same run twice'):
        expand_grid([('a', [1, 1])])
    with pytest.raises(SweepError, match='same run twice'):
        expand_grid([('a', [1, 2, 1]), ('b', [3, 4, 3])], zips=['a,b'])
    with pytest.raises(SweepError, match='given twice'):
        expand_grid([('a', [1]), ('a', [2])])
    with pytest.raises(SweepError, match='repeats a seed'):
        expand_grid([('a', [1])], seeds=[0, 0])
    with pytest.raises(SweepError, match='--seeds'):
        expand_grid([('seed', [1, 2])])


# ------------------------------------------------------------------------------------------------------- names
def test_run_names_are_readable_safe_unique_and_stable():
    sets = [('optimizer.lr', parse_set('optimizer.lr=1e-3,1e-5')[1]),
            ('optimizer.paramwise_cfg.custom_keys.text_encoder.lr_mult', [0.01, 0]),
            ('model.video_encoder.lr_mult', [1]),
            ('data.train.dataset.ann_file', ['data/nturgbd/ntu60_hrnet.pkl'])]
    runs = expand_grid(sets, seeds=[0, 1])
    names = run_names(runs)
    assert names[0] == ('lr=0.001_text_encoder.lr_mult=0.01_video_encoder.lr_mult=1_'
                        'ann_file=data-nturgbd-ntu60_hrnet.pkl_seed=0')
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r'[A-Za-z0-9._=+-]+', n) and len(n) <= 150 for n in names)
    assert 'lr=1e-5' in names[-1] and names[-1].endswith('_seed=1')
    # the same settings typed differently give the same names; a name depends on its run only
    again = run_names(expand_grid([(k, parse_set(f'{k}=' + ','.join(format_cfg_value(v) for v in vals))[1])
                                   for k, vals in sets], seeds=[0, 1]))
    assert again == names
    assert run_names(runs[:3]) == names[:3]


def test_names_that_would_collide_get_a_hash_and_signs_are_kept():
    runs = expand_grid([('optimizer.lr', [0.001, 0.0010000001, -1, 1])])
    names = run_names(runs)
    assert len(set(names)) == 4
    assert names[0].startswith('lr=0.001_seed=0-') and names[1].startswith('lr=0.001_seed=0-')
    assert names[2] == 'lr=-1_seed=0' and names[3] == 'lr=1_seed=0'
    long = run_names(expand_grid([('model.name', ['x' * 200, 'x' * 199 + 'y'])]))
    assert len(set(long)) == 2 and all(len(n) <= 150 for n in long)


def test_short_keys_are_the_shortest_unambiguous_suffixes():
    keys = ['optimizer.lr', 'a.video_encoder.lr_mult', 'a.text_encoder.lr_mult', 'data.val.split',
            'data.train.dataset.split']
    assert short_keys(keys) == {'optimizer.lr': 'lr', 'a.video_encoder.lr_mult': 'video_encoder.lr_mult',
                                'a.text_encoder.lr_mult': 'text_encoder.lr_mult', 'data.val.split': 'val.split',
                                'data.train.dataset.split': 'dataset.split'}


# ------------------------------------------------------------------------------------------ commands, dry run
def _dry_run(sweep_tool, capsys, argv):
    assert sweep_tool.main(argv + ['--dry-run']) == 0
    return [shlex.split(line) for line in capsys.readouterr().out.splitlines() if not line.startswith('sweep of')]


def test_dry_run_prints_single_process_commands_and_writes_nothing(sweep_tool, tiny_config, tmp_path, capsys):
    sweep_dir = tmp_path / 'sweep'
    cmds = _dry_run(sweep_tool, capsys, [str(tiny_config), '--set', 'optimizer.lr=1e-3,1e-4', '--seeds', '0,1',
                                         '--sweep-dir', str(sweep_dir), '--cfg-options', 'data.videos_per_gpu=2'])
    assert len(cmds) == 4
    train = str(REPO_ROOT / 'tools' / 'train.py')
    assert [c[:2] for c in cmds] == [[sys.executable, os.path.relpath(train) if not os.path.relpath(
        train).startswith('..') else train]] * 4
    assert cmds[1][2:] == [str(tiny_config), '--work-dir', str(sweep_dir / 'lr=0.001_seed=1'), '--seed', '1',
                           '--deterministic', '--validate', '--cfg-options', 'data.videos_per_gpu=2',
                           'optimizer.lr=0.001']
    assert not sweep_dir.exists()


def test_dry_run_torchrun_command(sweep_tool, tiny_config, tmp_path, capsys):
    cmds = _dry_run(sweep_tool, capsys, [str(tiny_config), '--set', 'optimizer.lr=0.1,0.2', '--gpus', '4',
                                         '--master-port', '29511', '--sweep-dir', str(tmp_path / 's'),
                                         '--no-deterministic', '--test-best'])
    assert len(cmds) == 2
    c = cmds[0]
    assert c[:5] == [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=4', '--master_port=29511']
    assert c[5].endswith(os.path.join('tools', 'train.py'))
    assert c[6:] == [str(tiny_config), '--work-dir', str(tmp_path / 's' / 'lr=0.1_seed=0'), '--seed', '0',
                     '--validate', '--test-best', '--launcher', 'pytorch', '--cfg-options', 'optimizer.lr=0.1']
    # --launcher pytorch with one GPU still goes through torchrun
    one = _dry_run(sweep_tool, capsys, [str(tiny_config), '--set', 'optimizer.lr=0.1', '--launcher', 'pytorch',
                                        '--sweep-dir', str(tmp_path / 's1')])
    assert one[0][2:4] == ['torch.distributed.run', '--nproc_per_node=1'] and '--launcher' in one[0]


def test_dry_run_slurm_command(sweep_tool, tiny_config, tmp_path, capsys):
    cmds = _dry_run(sweep_tool, capsys, [str(tiny_config), '--set', 'optimizer.lr=0.1', '--gpus', '16',
                                         '--launcher', 'slurm', '--partition', 'gpu', '--srun-args=--time=1:00:00',
                                         '--sweep-dir', str(tmp_path / 's')])
    c = cmds[0]
    assert c[:10] == ['srun', '-p', 'gpu', '--job-name=lr=0.1_seed=0', '--gres=gpu:8', '--ntasks=16',
                      '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1', '--time=1:00:00']
    assert c[10:12] == [sys.executable, '-u'] and c[12].endswith(os.path.join('tools', 'train.py'))
    assert c[c.index('--launcher') + 1] == 'slurm' and c[-2:] == ['--cfg-options', 'optimizer.lr=0.1']


def test_unknown_keys_are_refused_with_a_suggestion(sweep_tool, tiny_config, tmp_path):
    with pytest.raises(SweepError, match=r"'optimizer.lrr' is not in .*Similar keys: \['optimizer.lr'"):
        sweep_tool.main([str(tiny_config), '--set', 'optimizer.lrr=0.1,0.2', '--dry-run'])
    with pytest.raises(SweepError, match='data.videos_per_gpux'):
        sweep_tool.main([str(tiny_config), '--set', 'optimizer.lr=0.1', '--cfg-options', 'data.videos_per_gpux=2',
                         '--dry-run'])
    # a new entry of custom_keys names a module and is accepted; --allow-new-keys accepts anything
    cfg = tmp_path / 'with_custom.py'
    cfg.write_text(f'_base_ = [{str(tiny_config)!r}]\n'
                   "optimizer = dict(paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=2.)}))\n")
    assert sweep_tool.main([str(cfg), '--set', 'optimizer.paramwise_cfg.custom_keys.backbone.lr_mult=1,10',
                            '--sweep-dir', str(tmp_path / 's'), '--dry-run']) == 0
    assert sweep_tool.main([str(tiny_config), '--set', 'model.new_arg=1,2', '--allow-new-keys',
                            '--sweep-dir', str(tmp_path / 's2'), '--dry-run']) == 0


def test_a_sweep_dir_refuses_another_grid_or_config(sweep_tool, tiny_config, tmp_path):
    sweep_dir = tmp_path / 'sweep'
    sweep_dir.mkdir()
    argv = [str(tiny_config), '--set', 'optimizer.lr=0.1,0.2', '--sweep-dir', str(sweep_dir)]
    spec = sweep_tool.build_spec(sweep_tool.parse_args(argv))
    sweep_tool.write_json(str(sweep_dir / 'sweep.json'), spec)
    assert sweep_tool.check_spec(str(sweep_dir), spec) is True
    with pytest.raises(SweepError, match=r'holds another sweep \(sets: .*new --sweep-dir'):
        sweep_tool.main(argv[:2] + ['optimizer.lr=0.1,0.3'] + argv[3:] + ['--dry-run'])
    with pytest.raises(SweepError, match='seeds'):
        sweep_tool.main(argv + ['--seeds', '0,1', '--dry-run'])
    tiny_config.write_text(tiny_config.read_text() + 'total_epochs = 5\n')
    with pytest.raises(SweepError, match='content of .* changed'):
        sweep_tool.main(argv + ['--dry-run'])
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'something.txt').write_text('x')
    with pytest.raises(SweepError, match='not a sweep dir'):
        sweep_tool.main(argv[:-1] + [str(other), '--dry-run'])


def test_default_sweep_dir_depends_on_the_sweep(sweep_tool, tiny_config):
    a = sweep_tool.build_spec(sweep_tool.parse_args([str(tiny_config), '--set', 'optimizer.lr=1e-3,1e-4']))
    b = sweep_tool.build_spec(sweep_tool.parse_args([str(tiny_config), '--set', 'optimizer.lr=0.001,0.0001']))
    c = sweep_tool.build_spec(sweep_tool.parse_args([str(tiny_config), '--set', 'optimizer.lr=1e-3']))
    assert sweep_tool.default_sweep_dir(a) == sweep_tool.default_sweep_dir(b) != sweep_tool.default_sweep_dir(c)
    assert sweep_tool.default_sweep_dir(a).startswith(os.path.join('work_dirs', 'sweeps', 'tiny_'))


# ------------------------------------------------------------------------------------------- a real tiny sweep
def _snapshot(path: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in path.iterdir()}


def _val(work_dir: Path) -> dict:
    by_epoch = {}
    for r in read_json_log(work_dir):
        if r['mode'] == 'val':
            by_epoch[r['epoch']] = r
    return by_epoch


@pytest.mark.slow
def test_sweep_is_killed_resumed_and_summarised(tmp_path):
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl')
    config = write_tiny_config(tmp_path / 'tiny.py', ann, extra=TINY_MODEL + '\ntotal_epochs = 3\n')
    sweep_dir = tmp_path / 'sweep'
    cmd = [sys.executable, str(REPO_ROOT / 'tools' / 'sweep.py'), str(config), '--set', 'optimizer.lr=0.02,-1',
           '--seeds', '0,1', '--sweep-dir', str(sweep_dir)]
    names = ['lr=0.02_seed=0', 'lr=0.02_seed=1', 'lr=-1_seed=0', 'lr=-1_seed=1']
    first, second = sweep_dir / names[0], sweep_dir / names[1]

    # 1) kill the whole sweep (and its training) while the second run is in its second epoch
    proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), env=tool_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 400
    while not (second / 'epoch_1.pth').exists():
        assert proc.poll() is None and time.time() < deadline, 'the sweep ended before its second run got going'
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (second / 'epoch_3.pth').exists()
    record = json.loads((second / 'sweep_run.json').read_text())
    assert len(record['attempts']) == 1 and record['attempts'][0]['returncode'] is None
    before = _snapshot(first)

    # 2) rerun: the finished run is left alone, the killed one resumes in its work dir, the failing ones fail
    out = subprocess.run(cmd, cwd=str(REPO_ROOT), env=tool_env(), capture_output=True, text=True, timeout=900)
    assert out.returncode == 1, out.stdout + out.stderr
    assert '1 finished, 3 to run' in out.stdout
    # the failing runs stop at the config check (a negative learning rate), and the sweep names them
    assert 'optimizer.lr is -1' in out.stdout and 'lr=-1_seed=0, lr=-1_seed=1' in out.stderr
    assert _snapshot(first) == before
    assert len(json.loads((first / 'sweep_run.json').read_text())['attempts']) == 1
    logs = sorted(second.glob('*.log.json'))
    assert len(logs) == 2
    resumed_train = [json.loads(line) for line in logs[1].read_text().splitlines()[1:]]
    assert resumed_train[0]['mode'] == 'train' and resumed_train[0]['epoch'] == 2, 'the run restarted from scratch'
    assert [a['returncode'] for a in json.loads((second / 'sweep_run.json').read_text())['attempts']] == [None, 0]

    # 3) the summary agrees with the runs' logs
    rows = list(csv.DictReader((sweep_dir / 'summary.csv').open()))
    runs = {r['run']: r for r in rows if r['kind'] == 'run'}
    assert list(runs) == names
    for name in names[:2]:
        val = _val(sweep_dir / name)
        # the killed run may have lost the evaluation of epoch 1 (killed after its checkpoint, before its val line)
        assert sorted(val) == [1, 2, 3] if name == names[0] else {2, 3} <= set(val)
        if 1 not in val:
            assert runs[name]['status'] == 'finished'
            assert 'epochs never validated: 1' in (sweep_dir / 'summary.md').read_text()
        best_epoch = max(sorted(val), key=lambda e: (val[e]['top1_acc'], -e))
        row = runs[name]
        assert row['status'] == 'finished' and row['seed'] == name[-1] and float(row['optimizer.lr']) == 0.02
        assert float(row['best_top1']) == val[best_epoch]['top1_acc'] and int(row['best_epoch']) == best_epoch
        assert float(row['best_top5']) == val[best_epoch]['top5_acc']
        assert float(row['best_mean_class']) == val[best_epoch]['mean_class_accuracy']
        assert float(row['last_top1']) == val[3]['top1_acc'] and float(row['last_top5']) == val[3]['top5_acc']
        assert float(row['last_mean_class']) == val[3]['mean_class_accuracy']
        assert float(row['wall_time_s']) > 0
    for name in names[2:]:
        assert runs[name]['status'] == 'failed (exit 1)' and runs[name]['best_top1'] == ''
    seeds = {r['optimizer.lr']: r for r in rows if r['kind'] == 'seeds'}
    last = [_val(sweep_dir / n)[3]['top1_acc'] for n in names[:2]]
    assert seeds['0.02']['n'] == '2' and seeds['0.02']['seed'] == '0;1'
    assert float(seeds['0.02']['last_top1']) == pytest.approx(statistics.mean(last), abs=1e-12)
    assert float(seeds['0.02']['last_top1_std']) == pytest.approx(statistics.stdev(last), abs=1e-12)
    assert seeds['-1']['n'] == '0' and seeds['-1']['last_top1'] == ''
    md = (sweep_dir / 'summary.md').read_text()
    assert f'| {names[0]} | 0.02 | 0 | finished | {100 * float(runs[names[0]]["best_top1"]):.2f} |' in md
    assert f'{100 * statistics.mean(last):.2f} ± {100 * statistics.stdev(last):.2f}' in md
    assert json.loads((sweep_dir / 'sweep.json').read_text())['runs'][0] == {'optimizer.lr': 0.02, 'seed': 0}

    # 4) a third look: both finished runs are skipped, the failed ones would be retried
    dry = subprocess.run(cmd + ['--dry-run'], cwd=str(REPO_ROOT), env=tool_env(), capture_output=True, text=True)
    lines = [line for line in dry.stdout.splitlines() if not line.startswith('sweep of')]
    assert dry.returncode == 0 and '2 finished, 2 to run' in dry.stdout
    assert [line.startswith('# finished, skipped: ') for line in lines] == [True, True, False, False]


# ----------------------------------------------------------------------------- the family READMEs' sweep commands
def _readme_sweeps(family: str) -> list:
    text = (REPO_ROOT / 'configs' / family / 'README.md').read_text()
    section = text[text.index('\n## Sweeps'):]
    commands = []
    for block in re.findall(r'```bash\n(.*?)```', section, flags=re.S):
        for cmd in block.replace('\\\n', ' ').splitlines():
            if cmd.startswith('python tools/sweep.py'):
                commands.append(shlex.split(cmd)[2:])
    return commands


def _seed_table(family: str) -> list:
    """(base, video, text) learning rates of the research code's table in the README."""
    rows = []
    for line in (REPO_ROOT / 'configs' / family / 'README.md').read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) >= 4 and re.match(r'^1e-\d', cells[0]):
            rows.append(tuple(float(c.split()[0]) for c in cells[:3]))
    return rows


@pytest.mark.parametrize('family', ['visece', 'visece_itm', 'visece_mo'])
def test_the_readme_sweep_reproduces_the_research_table(sweep_tool, family, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    argv = _readme_sweeps(family)[0]
    spec = sweep_tool.build_spec(sweep_tool.parse_args(argv + ['--sweep-dir', str(tmp_path / 's')]))
    runs = spec['runs']
    table = _seed_table(family)
    assert len(runs) == len(table) >= 4
    prefix = 'optimizer.paramwise_cfg.custom_keys.'
    for run, (base, video, text) in zip(runs, table):
        assert run['optimizer.lr'] == pytest.approx(base)
        assert run['optimizer.lr'] * run[prefix + 'video_encoder.lr_mult'] == pytest.approx(video)
        assert run['optimizer.lr'] * run[prefix + 'text_encoder.lr_mult'] == pytest.approx(text)
    if family == 'visece_itm':
        assert [r['model.frozen_bert'] for r in runs] == [text == 0 for _, _, text in table]
    if family == 'visece_mo':
        assert [r['optimizer.type'] for r in runs] == ['AdamW'] * 4 + ['SGD']


@pytest.mark.parametrize('family', ['visece', 'visece_itm', 'visece_mo', 'visece_pacl', 'posec3d'])
def test_every_readme_sweep_command_expands(sweep_tool, family, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT)
    commands = _readme_sweeps(family)
    assert commands
    for i, argv in enumerate(commands):
        assert sweep_tool.main(argv + ['--sweep-dir', str(tmp_path / str(i)), '--dry-run']) == 0
        out = capsys.readouterr().out
        assert 'torch.distributed.run --nproc_per_node=8' in out


def test_two_sweeps_cannot_share_a_sweep_dir_at_once(sweep_tool, tmp_path):
    with sweep_tool.locked(str(tmp_path)):
        with pytest.raises(SweepError, match='another tools/sweep.py is running'):
            with sweep_tool.locked(str(tmp_path)):
                pass
    with sweep_tool.locked(str(tmp_path)):  # released when the first one ends
        pass
