"""tools/analysis/plot_curves.py: the curves' numbers are the logged ones."""
import csv
import json

import pytest
from analysis_helpers import load_tool, read_png


def write_log(path, records):
    lines = [json.dumps(dict(env_info='x', seed=0))] + [json.dumps(r) for r in records]
    path.write_text('\n'.join(lines) + '\n')


def train(epoch, it, loss, lr):
    return dict(mode='train', epoch=epoch, iter=it, lr=lr, loss=loss, time=0.1)


def val(epoch, acc):
    return dict(mode='val', epoch=epoch, iter=10, lr=0.01, top1_acc=acc)


@pytest.fixture()
def runs(tmp_path):
    a, b = tmp_path / 'run_a', tmp_path / 'run_b'
    a.mkdir()
    b.mkdir()
    write_log(a / '20260101_000000.log.json', [train(1, 5, 2.0, 0.1), train(1, 10, 1.5, 0.09), val(1, 0.3)])
    # a resumed run: the second log repeats epoch 1 iter 10 (the later value wins) and goes on
    write_log(a / '20260101_010000.log.json', [train(1, 10, 1.4, 0.09), train(2, 5, 1.0, 0.05),
                                              train(2, 10, 0.8, 0.01), val(2, 0.6)])
    write_log(b / '20260102_000000.log.json', [train(1, 10, 3.0, 0.2), val(1, 0.1)])
    return a, b


def test_curves_hold_the_logged_numbers(runs, tmp_path):
    tool = load_tool('analysis/plot_curves.py')
    out = tmp_path / 'out'
    tool.main([str(runs[0]), str(runs[1]), '--keys', 'loss', 'top1_acc', 'lr', '--out-dir', str(out)])
    rows = list(csv.DictReader((out / 'curves.csv').open()))
    loss_a = [(int(r['epoch']), int(r['iter']), float(r['value'])) for r in rows
              if r['run'] == 'run_a' and r['key'] == 'loss']
    assert loss_a == [(1, 5, 2.0), (1, 10, 1.4), (2, 5, 1.0), (2, 10, 0.8)]
    acc = {(r['run'], int(r['epoch'])): float(r['value']) for r in rows if r['key'] == 'top1_acc'}
    assert acc == {('run_a', 1): 0.3, ('run_a', 2): 0.6, ('run_b', 1): 0.1}
    xs = [float(r['x']) for r in rows if r['run'] == 'run_a' and r['key'] == 'loss']
    assert xs == [0.5, 1.0, 1.5, 2.0]
    lr_modes = {r['mode'] for r in rows if r['key'] == 'lr'}
    assert lr_modes == {'train', 'val'}
    image = read_png(out / 'curves.png')
    assert image.shape[0] > 100 and image.shape[1] > 300


def test_unknown_key_and_existing_outputs(runs, tmp_path):
    tool = load_tool('analysis/plot_curves.py')
    with pytest.raises(KeyError, match='top1_acc'):
        tool.main([str(runs[0]), '--keys', 'accuracy', '--out-dir', str(tmp_path / 'o1')])
    out = tmp_path / 'o2'
    tool.main([str(runs[0]), '--out-dir', str(out)])
    before = (out / 'curves.csv').read_bytes()
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool.main([str(runs[1]), '--out-dir', str(out)])
    assert (out / 'curves.csv').read_bytes() == before
    with pytest.raises(FileNotFoundError, match='log.json'):
        tool.main([str(tmp_path), '--out-dir', str(tmp_path / 'o3')])
