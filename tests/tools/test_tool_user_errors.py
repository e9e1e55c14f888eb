"""User mistakes given to tools/train.py and tools/test.py end with one `error:` line naming the file and the key,
before anything is written, and never replace an existing file."""
import re
import subprocess

import pytest
import torch
from analysis_helpers import load_tool
from e2e_utils import REPO_ROOT, make_tiny_dataset, python_tool, tool_env, write_tiny_config
from mmcv import Config

from pyskl.models import build_model
from pyskl.utils.config_check import ConfigError

TINY_MODEL = 'model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))\n'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('user_errors')
    ann = make_tiny_dataset(root / 'tiny.pkl', train_per_class=1)
    config = write_tiny_config(root / 'tiny.py', ann, extra=TINY_MODEL)
    torch.manual_seed(0)
    torch.save(dict(state_dict=build_model(Config.fromfile(str(config)).model).state_dict()), root / 'fits.pth')
    return dict(root=root, ann=ann, config=config, train=load_tool('train.py'), test=load_tool('test.py'))


def test_a_misspelt_top_level_key_stops_train_before_the_work_dir_is_made(setup, tmp_path):
    config = write_tiny_config(tmp_path / 'typo.py', setup['ann'], extra=TINY_MODEL + 'total_epoch = 1\n')
    with pytest.raises(SystemExit, match=r"typo\.py: top-level key 'total_epoch'.*'total_epochs'"):
        setup['train'].main([str(config), '--work-dir', str(tmp_path / 'wd')])
    assert not (tmp_path / 'wd').exists()


@pytest.mark.parametrize('option, key', [('total_epoch=1', 'total_epoch'), ('total_epochs=one', 'total_epochs'),
                                         ('optimizer.lr=abc', r'optimizer\.lr')])
def test_a_bad_override_stops_train(setup, tmp_path, option, key):
    with pytest.raises(SystemExit, match=f'error: .*{key}'):
        setup['train'].main([str(setup['config']), '--work-dir', str(tmp_path / 'wd'), '--cfg-options', option])
    assert not (tmp_path / 'wd').exists()


def test_a_work_dir_that_is_a_file_is_refused_and_kept(setup, tmp_path):
    work_dir = tmp_path / 'results.txt'
    work_dir.write_text('keep me')
    with pytest.raises(SystemExit, match=r'results\.txt is a file, not a folder'):
        setup['train'].main([str(setup['config']), '--work-dir', str(work_dir)])
    assert work_dir.read_text() == 'keep me'


def test_test_keeps_an_existing_out_file_unless_overwrite(setup, tmp_path, capsys):
    out = tmp_path / 'scores.pkl'
    out.write_bytes(b'earlier scores')
    args = [str(setup['config']), '-C', str(setup['root'] / 'fits.pth'), '--out', str(out)]
    with pytest.raises(SystemExit, match=r'scores\.pkl already exists.*--overwrite'):
        setup['test'].main(args)
    assert out.read_bytes() == b'earlier scores'
    setup['test'].main(args + ['--overwrite'])
    assert out.read_bytes() != b'earlier scores'


def test_test_refuses_an_unwritable_out_before_testing(setup, tmp_path):
    (tmp_path / 'afile').write_text('x')
    with pytest.raises(SystemExit, match=r'--out .*afile.*cannot create the folder'):
        setup['test'].main([str(setup['config']), '-C', str(setup['root'] / 'fits.pth'), '--out',
                            str(tmp_path / 'afile' / 'scores.pkl')])


def test_a_misspelt_model_argument_names_the_config_and_section(setup, tmp_path):
    config = write_tiny_config(tmp_path / 'm.py', setup['ann'], extra=TINY_MODEL
                               + 'model.update(backbone=dict(base_channel=4))\n')
    with pytest.raises(ConfigError, match=r"m\.py, model: .*'base_channel'"):
        setup['test'].main([str(config), '-C', str(setup['root'] / 'fits.pth')])


@pytest.mark.slow
@pytest.mark.parametrize('extra, expected', [
    ("data['train']['pipeline'] = [dict(type='UniformSampleFrames', cliplen=8)]\n",
     r"error: config .*bad\.py, data\.train: .*unexpected keyword argument 'cliplen'"),
    ("data['train']['split'] = 'trian'\n", r"error: .*split 'trian' is not in the file"),
    ('total_epochs = (1\n', r'error: config .*bad\.py, line \d+: syntax error'),
])
def test_the_command_line_prints_one_error_line_and_no_traceback(setup, tmp_path, extra, expected):
    config = write_tiny_config(tmp_path / 'bad.py', setup['ann'], extra=TINY_MODEL + extra)
    proc = subprocess.run(python_tool('train.py') + [str(config), '--work-dir', str(tmp_path / 'wd')],
                          cwd=str(REPO_ROOT), env=tool_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert re.search(expected, proc.stderr), proc.stderr[-3000:]
