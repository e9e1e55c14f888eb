"""tools/analysis/collect_results.py and pyskl.utils.results: reading work dirs (logs, config dumps as data),
run status, best / last metrics, mean +- std over seeds and splits, and work dirs made by tools/train.py directly."""
import csv
import importlib.util
import io
import json
import statistics
import sys
from pathlib import Path

import pytest
from e2e_utils import REPO_ROOT, make_tiny_dataset, python_tool, read_json_log, run_tool, write_tiny_config

from pyskl.utils.results import (
    ResultsError,
    aggregate,
    find_work_dirs,
    literal_config,
    read_run,
    summary_tables,
    to_csv,
    to_markdown,
)

CONFIG_TEXT = """total_epochs = {epochs}
seed = {seed}
optimizer = dict(
    type='SGD', lr={lr}, momentum=0.9, paramwise_cfg=dict(custom_keys={{'text_encoder': dict(lr_mult=0.01)}}))
data = dict(videos_per_gpu=4, train=dict(type='RepeatDataset', times=2, dataset=dict(split='{split}')))
work_dir = 'somewhere/{seed}'
"""


def load_collect_tool():
    spec = importlib.util.spec_from_file_location('collect_tool', REPO_ROOT / 'tools' / 'analysis' /
                                                  'collect_results.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_work_dir(root: Path, name: str, top1: list, lr=0.1, seed=0, epochs=None, split='train1',
                  stamp='20260101_000000', extra_lines=(), checkpoint=False) -> Path:
    """A work dir as tools/train.py leaves it: a JSON log with the meta line and one val line per epoch."""
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    epochs = len(top1) if epochs is None else epochs
    meta = dict(seed=seed, config=CONFIG_TEXT.format(epochs=epochs, seed=seed, lr=lr, split=split), exp_name='x.py')
    lines = [json.dumps(meta)]
    for e, acc in enumerate(top1, 1):
        lines.append(json.dumps(dict(mode='train', epoch=e, iter=1, lr=lr, loss=1.0, time=0.1)))
        lines.append(json.dumps(dict(mode='val', epoch=e, iter=3, lr=lr, top1_acc=acc, top5_acc=min(1, acc + 0.2),
                                     mean_class_accuracy=acc / 2)))
    lines.extend(extra_lines)
    (work / f'{stamp}.log.json').write_text('\n'.join(lines) + '\n')
    (work / f'{stamp}.log').write_text('2026-01-01 00:00:00,000 - pyskl - INFO - start\n'
                                       'progress bar without a time\n'
                                       '2026-01-01 00:01:40,500 - pyskl - INFO - end\n')
    if checkpoint:
        (work / f'epoch_{epochs}.pth').write_bytes(b'')
    return work


# --------------------------------------------------------------------------------------------- configs as data
def test_a_config_dump_is_read_as_the_config_it_came_from(tmp_path):
    from mmcv import Config
    cfg_file = write_tiny_config(tmp_path / 'tiny.py', tmp_path / 'tiny.pkl')
    cfg = Config.fromfile(str(cfg_file))
    parsed = literal_config(cfg.pretty_text, 'dump')
    assert json.loads(json.dumps(parsed)) == json.loads(json.dumps(cfg._cfg_dict.to_dict()))
    assert parsed['data']['train']['pipeline'][0]['type'] == 'UniformSampleFrames'
    assert literal_config("a = {'b c': dict(x=-1e-3, y=(1, ), z=[inf, None])}\n", 's') == {
        'a': {'b c': {'x': -1e-3, 'y': (1, ), 'z': [float('inf'), None]}}}


@pytest.mark.parametrize('text', ["x = __import__('os').system('touch {marker}')\n",
                                  "open('{marker}', 'w')\n",
                                  "x = dict(a=open('{marker}', 'w'))\n",
                                  "x = [i for i in range(3)]\n",
                                  "def f():\n    pass\n"])
def test_code_in_a_config_dump_is_refused_not_run(tmp_path, text):
    marker = tmp_path / 'ran'
    with pytest.raises(ResultsError, match='dump.py'):
        literal_config(text.format(marker=marker), 'dump.py')
    assert not marker.exists()


# ------------------------------------------------------------------------------------------------- one run
def test_best_and_last_metrics_follow_the_val_log(tmp_path):
    run = read_run(str(fake_work_dir(tmp_path, 'r', [0.3, 0.5, 0.5, 0.4])))
    assert run['status'] == 'finished' and run['seed'] == 0 and run['total_epochs'] == 4
    assert (run['best_top1'], run['best_epoch']) == (0.5, 2)  # the first epoch wins a tie, as the best checkpoint
    assert run['best_top5'] == pytest.approx(0.7) and run['best_mean_class'] == 0.25
    assert (run['last_top1'], run['last_top5'], run['last_mean_class']) == (0.4, pytest.approx(0.6), 0.2)
    assert run['wall_time_s'] == pytest.approx(100.5)
    assert run['config']['optimizer']['paramwise_cfg']['custom_keys']['text_encoder']['lr_mult'] == 0.01


def test_a_resumed_run_reads_all_its_logs_and_a_truncated_line_is_skipped(tmp_path):
    work = fake_work_dir(tmp_path, 'r', [0.3, 0.6], epochs=3, extra_lines=['{"mode": "train", "ep'])
    # resumed after a kill during epoch 2's evaluation: epoch 2 again, then epoch 3
    lines = [json.dumps(dict(seed=0, config=CONFIG_TEXT.format(epochs=3, seed=0, lr=0.1, split='train1')))]
    lines += [json.dumps(dict(mode='val', epoch=2, top1_acc=0.2, top5_acc=0.5, mean_class_accuracy=0.1)),
              json.dumps(dict(mode='val', epoch=3, top1_acc=0.4, top5_acc=0.6, mean_class_accuracy=0.3))]
    (work / '20260101_010000.log.json').write_text('\n'.join(lines) + '\n')
    run = read_run(str(work))
    assert run['status'] == 'finished' and run['epochs'] == 3
    assert (run['best_top1'], run['best_epoch'], run['last_top1']) == (0.4, 3, 0.4)


def test_epochs_that_were_never_validated_are_noted(tmp_path):
    work = fake_work_dir(tmp_path, 'r', [0.3, 0.5, 0.4])
    lines = (work / '20260101_000000.log.json').read_text().splitlines()
    (work / '20260101_000000.log.json').write_text('\n'.join(line for line in lines if '"epoch": 1, "iter": 3' not in
                                                             line and '"epoch": 3, "iter": 3' not in line) + '\n')
    (work / 'epoch_3.pth').write_bytes(b'')
    run = read_run(str(work))
    assert run['status'] == 'finished' and run['note'] == 'epochs never validated: 1, 3'
    assert (run['best_top1'], run['last_top1']) == (0.5, 0.5)
    assert read_run(str(fake_work_dir(tmp_path, 'ok', [0.3, 0.5])))['note'] == ''


def test_a_damaged_line_inside_a_log_is_an_error_naming_the_file(tmp_path):
    work = fake_work_dir(tmp_path, 'r', [0.3], extra_lines=['not json', json.dumps(dict(mode='val', epoch=1))])
    with pytest.raises(ResultsError, match=r'20260101_000000.log.json, line 4'):
        read_run(str(work))


def test_status_of_unfinished_and_finished_runs(tmp_path):
    assert read_run(str(fake_work_dir(tmp_path, 'a', [0.3], epochs=2)))['status'] == 'incomplete (epoch 1/2)'
    # the last epoch started (train lines) but was neither validated nor checkpointed: not finished
    work = fake_work_dir(tmp_path, 'b', [0.3], epochs=2, extra_lines=[json.dumps(dict(mode='train', epoch=2))])
    assert read_run(str(work))['status'] == 'incomplete (epoch 2/2)'
    (work / 'epoch_2.pth').write_bytes(b'')
    assert read_run(str(work))['status'] == 'finished'
    # a sweep run also needs its last attempt to have exited 0
    rec = dict(settings={'optimizer.lr': 0.1, 'seed': 0}, attempts=[dict(returncode=0, wall_time_s=7.0)])
    (work / 'sweep_run.json').write_text(json.dumps(rec))
    assert read_run(str(work))['status'] == 'finished' and read_run(str(work))['wall_time_s'] == 7.0
    rec['attempts'].append(dict(returncode=None, wall_time_s=None))
    (work / 'sweep_run.json').write_text(json.dumps(rec))
    assert read_run(str(work))['status'] == 'interrupted'
    rec['attempts'][-1] = dict(returncode=3, wall_time_s=1.0)
    (work / 'sweep_run.json').write_text(json.dumps(rec))
    assert read_run(str(work))['status'] == 'failed (exit 3)'


def test_logs_of_two_configurations_in_one_work_dir_are_refused(tmp_path):
    work = fake_work_dir(tmp_path, 'r', [0.3, 0.4], lr=0.1)
    fake_work_dir(tmp_path, 'r', [0.5, 0.6], lr=0.2, stamp='20260102_000000')
    with pytest.raises(ResultsError, match=r"different configurations.*optimizer.lr.*--allow-mixed-configs"):
        read_run(str(work))
    run = read_run(str(work), allow_mixed=True)
    assert run['config']['optimizer']['lr'] == 0.2 and 'mixed configs (optimizer.lr)' in run['note']


# ------------------------------------------------------------------------------------------------ aggregates
def test_mean_and_sample_std_over_seeds_and_splits(tmp_path):
    # lr 0.1: seeds 0, 1, 2 with last top-1 0.5, 0.7, 0.6 -> mean 0.6, sample std 0.1
    runs = [read_run(str(fake_work_dir(tmp_path, f'lr0.1_s{s}', [0.2, acc], seed=s)))
            for s, acc in zip((0, 1, 2), (0.5, 0.7, 0.6))]
    runs += [read_run(str(fake_work_dir(tmp_path, f'lr0.2_s{s}', [acc, 0.1], lr=0.2, seed=s)))
             for s, acc in zip((0, 1), (0.3, 0.4))]
    runs.append(read_run(str(fake_work_dir(tmp_path, 'lr0.2_unfinished', [0.9], lr=0.2, seed=2, epochs=2))))
    rows = {r['settings']['optimizer.lr']: r for r in aggregate(runs, ['optimizer.lr'], 'seeds')}
    assert rows[0.1]['n'] == 3 and rows[0.1]['seeds'] == [0, 1, 2]
    assert rows[0.1]['last_top1'] == pytest.approx(0.6) and rows[0.1]['last_top1_std'] == pytest.approx(0.1)
    assert rows[0.1]['best_top1'] == pytest.approx(0.6) and rows[0.1]['best_epoch'] == 2
    assert rows[0.2]['n'] == 2 and rows[0.2]['total'] == 3  # the unfinished run stays out of the means
    assert rows[0.2]['best_top1'] == pytest.approx(0.35) and rows[0.2]['best_epoch'] == 1
    assert rows[0.2]['best_top1_std'] == pytest.approx(statistics.stdev([0.3, 0.4]))
    one = aggregate(runs[:1], ['optimizer.lr'], 'seeds')[0]
    assert one['n'] == 1 and one['last_top1'] == 0.5 and one['last_top1_std'] is None

    md = to_markdown(summary_tables(runs, ['optimizer.lr']), ['optimizer.lr'])
    assert '| 0.1 | 0,1,2 | 3/3 | 60.00 ± 10.00 |' in md
    assert '| lr0.2_unfinished | 0.2 | 2 | incomplete (epoch 1/2) |' in md


def test_splits_get_their_own_table(tmp_path):
    runs = []
    for split, accs in (('train1', (0.5, 0.7)), ('train2', (0.2, 0.4))):
        for seed, acc in enumerate(accs):
            runs.append(read_run(str(fake_work_dir(tmp_path, f'{split}_{seed}', [acc], seed=seed, split=split))))
    keys = ['data.train.dataset.split']
    tables = summary_tables(runs, keys)
    assert [t[1] for t in tables] == ['run', 'seeds', 'splits']
    per_split = {r['settings']['data.train.dataset.split']: r for r in tables[1][2]}
    assert per_split['train1']['last_top1'] == pytest.approx(0.6)
    overall = tables[2][2]
    assert len(overall) == 1 and overall[0]['n'] == 4
    assert overall[0]['last_top1'] == pytest.approx(0.45)
    assert overall[0]['last_top1_std'] == pytest.approx(statistics.stdev([0.5, 0.7, 0.2, 0.4]))
    rows = list(csv.DictReader(io.StringIO(to_csv(tables, keys))))
    assert [r['kind'] for r in rows] == ['run'] * 4 + ['seeds'] * 2 + ['splits']
    assert float(rows[-1]['last_top1']) == pytest.approx(0.45) and rows[-1]['data.train.dataset.split'] == ''


# ------------------------------------------------------------------------------------------------------- CLI
def test_cli_groups_by_keys_and_finds_work_dirs_below_a_folder(tmp_path, capsys):
    tool = load_collect_tool()
    for s, acc in zip((0, 1), (0.5, 0.7)):
        fake_work_dir(tmp_path / 'all' / 'lr0.1', f's{s}', [acc], seed=s)
    fake_work_dir(tmp_path / 'all', 'lr0.2', [0.3], lr=0.2)
    assert len(find_work_dirs([str(tmp_path / 'all')])) == 3
    assert tool.main([str(tmp_path / 'all'), '--by', 'optimizer.lr', '--format', 'csv']) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    groups = {r['optimizer.lr']: r for r in rows if r['kind'] == 'group'}
    assert float(groups['0.1']['last_top1']) == pytest.approx(0.6)
    assert float(groups['0.1']['last_top1_std']) == pytest.approx(statistics.stdev([0.5, 0.7]))
    assert groups['0.2']['n'] == '1' and groups['0.2']['last_top1_std'] == ''
    assert tool.main([str(tmp_path / 'all'), '--by', 'seed', '--format', 'csv']) == 0
    by_seed = {r['seed']: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r['kind'] == 'group'}
    assert by_seed['0']['n'] == '2' and float(by_seed['0']['last_top1']) == pytest.approx(0.4)
    # without --by: the differing config keys (lr) are the settings; work_dir and seed are not settings
    assert tool.main([str(tmp_path / 'all')]) == 0
    md = capsys.readouterr().out
    assert '| run | optimizer.lr | seed |' in md and 'work_dir' not in md
    out = tmp_path / 'table.md'
    assert tool.main([str(tmp_path / 'all'), '--out', str(out)]) == 0 and out.read_text() == md
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ResultsError, match=r'empty: no \*.log.json'):
        tool.main([str(tmp_path / 'empty')])


# ------------------------------------------------------------------------------- runs of tools/train.py itself
@pytest.mark.slow
def test_collects_work_dirs_made_by_train_py(tmp_path):
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl')
    config = write_tiny_config(tmp_path / 'tiny.py', ann, extra='model = dict(backbone=dict(base_channels=4, '
                               'stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))')
    for seed in (0, 1):
        run_tool(python_tool('train.py') + [str(config), '--validate', '--seed', str(seed), '--work-dir',
                                            str(tmp_path / 'runs' / f'seed{seed}'), '--cfg-options',
                                            'optimizer.lr=0.05'], cwd=REPO_ROOT)
    out = run_tool([sys.executable, str(REPO_ROOT / 'tools' / 'analysis' / 'collect_results.py'),
                    str(tmp_path / 'runs'), '--by', 'optimizer.lr', '--format', 'csv'], cwd=REPO_ROOT)
    rows = list(csv.DictReader(io.StringIO(out[out.index('kind,'):])))
    runs = {r['run']: r for r in rows if r['kind'] == 'run'}
    best, last = [], []
    for seed in (0, 1):
        val = [r for r in read_json_log(tmp_path / 'runs' / f'seed{seed}') if r['mode'] == 'val']
        assert [r['epoch'] for r in val] == [1, 2]
        row = runs[f'seed{seed}']
        assert row['status'] == 'finished' and row['seed'] == str(seed) and float(row['optimizer.lr']) == 0.05
        assert float(row['best_top1']) == max(r['top1_acc'] for r in val)
        assert float(row['last_top1']) == val[-1]['top1_acc'] and float(row['last_top5']) == val[-1]['top5_acc']
        assert float(row['last_mean_class']) == val[-1]['mean_class_accuracy']
        best.append(max(r['top1_acc'] for r in val))
        last.append(val[-1]['top1_acc'])
    group = [r for r in rows if r['kind'] == 'group']
    assert len(group) == 1 and group[0]['n'] == '2'
    assert float(group[0]['best_top1']) == pytest.approx(statistics.mean(best), abs=1e-12)
    assert float(group[0]['last_top1_std']) == pytest.approx(statistics.stdev(last), abs=1e-12)
