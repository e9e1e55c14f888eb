"""`pyskl.utils.config_check`: the config mistakes mmcv lets through are refused with the file, the key and a fix."""
import glob
import os.path as osp
from pathlib import Path

import pytest

from pyskl.utils.config_check import ConfigError, build_or_explain, check_output_file, check_work_dir, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE = str(REPO_ROOT / 'configs' / 'demo' / 'posec3d_synthetic.py')


def write(tmp_path, text, name='cfg.py'):
    path = tmp_path / name
    path.write_text(f'_base_ = [{BASE!r}]\n' + text)
    return str(path)


def test_a_misspelt_top_level_key_is_refused_with_the_likely_key(tmp_path):
    path = write(tmp_path, 'total_epoch = 1\n')
    with pytest.raises(ConfigError, match=r"cfg\.py: top-level key 'total_epoch'.*did you mean 'total_epochs'"):
        load_config(path)


def test_helper_variables_and_known_keys_load(tmp_path):
    path = write(tmp_path, 'clip_len = 8\nleft_kp = [1, 3]\nnum_classes = 18\ntotal_epochs = 1\nseed = 3\n')
    cfg = load_config(path, {'optimizer.lr': 0.01, 'work_dir': 'w', 'data.videos_per_gpu': 2})
    assert cfg.total_epochs == 1 and cfg.optimizer.lr == 0.01 and cfg.data.videos_per_gpu == 2


def test_an_override_of_an_unknown_top_level_key_is_refused():
    with pytest.raises(ConfigError, match=r"--cfg-options total_epoch: .*did you mean 'total_epochs'"):
        load_config(BASE, {'total_epoch': 1})
    with pytest.raises(ConfigError, match='optimzer'):
        load_config(BASE, {'optimzer.lr': 0.1})


@pytest.mark.parametrize('options, key', [
    ({'total_epochs': 'one'}, 'total_epochs'),
    ({'total_epochs': 0}, 'total_epochs'),
    ({'optimizer.lr': 'abc'}, 'optimizer.lr'),
    ({'data.videos_per_gpu': 0}, 'data.videos_per_gpu'),
    ({'evaluation.interval': 1.5}, 'evaluation.interval'),
])
def test_values_of_the_wrong_type_name_the_key(options, key):
    with pytest.raises(ConfigError, match=key.replace('.', r'\.') + ' is'):
        load_config(BASE, options)


def test_an_optimizer_argument_of_another_name_is_refused(tmp_path):
    path = write(tmp_path, "optimizer = dict(type='SGD', lr=0.05, momentun=0.9)\n")
    with pytest.raises(ConfigError, match=r"optimizer\.momentun .*SGD; did you mean 'momentum'"):
        load_config(path)


def test_lr_config_policy_and_arguments_are_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"'CosineAnealing'.*did you mean 'CosineAnnealing'"):
        load_config(write(tmp_path, "lr_config = dict(policy='CosineAnealing', min_lr=0)\n", 'a.py'))
    with pytest.raises(ConfigError, match=r"lr_config\.minlr .*did you mean 'min_lr'"):
        load_config(write(tmp_path, "lr_config = dict(policy='CosineAnnealing', minlr=0, by_epoch=False)\n", 'b.py'))
    assert load_config(write(tmp_path, "lr_config = dict(policy='step', step=[2])\n", 'c.py')).lr_config.step == [2]


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    broken = tmp_path / 'broken_base.py'
    broken.write_text('x = 1\ny = (2\n')
    path = tmp_path / 'child.py'
    path.write_text("_base_ = ['broken_base.py']\n")
    with pytest.raises(ConfigError, match=r'broken_base\.py, line 2: syntax error'):
        load_config(str(path))


def test_a_missing_config_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r'nope\.py does not exist'):
        load_config(str(tmp_path / 'nope.py'))


def test_an_existing_output_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / 'scores.pkl'
    out.write_bytes(b'earlier results')
    with pytest.raises(ConfigError, match=r'scores\.pkl already exists.*--overwrite'):
        check_output_file(str(out), '--out')
    assert out.read_bytes() == b'earlier results'
    check_output_file(str(out), '--out', overwrite=True)
    check_output_file(str(tmp_path / 'new' / 'scores.pkl'), '--out')
    assert osp.isdir(tmp_path / 'new')


def test_an_output_under_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / 'afile').write_text('x')
    with pytest.raises(ConfigError, match='cannot create the folder'):
        check_output_file(str(tmp_path / 'afile' / 'scores.pkl'), '--out')
    with pytest.raises(ConfigError, match='is a folder'):
        check_output_file(str(tmp_path), '--out')


def test_a_work_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / 'wd').write_text('x')
    with pytest.raises(ConfigError, match=r'wd is a file, not a folder'):
        check_work_dir(str(tmp_path / 'wd'))
    with pytest.raises(ConfigError, match=r'wd is a file, not a folder'):
        check_work_dir(str(tmp_path / 'wd' / 'sub'))
    check_work_dir(str(tmp_path / 'fresh' / 'sub'))


def test_build_or_explain_names_the_config_and_section_for_a_misspelt_argument():
    def builder(cfg):
        def make(clip_len):
            return clip_len
        return make(**cfg)

    with pytest.raises(ConfigError, match=r"config c\.py, data\.train: .*unexpected keyword argument 'cliplen'"):
        build_or_explain(builder, dict(cliplen=3), 'c.py', 'data.train')
    assert build_or_explain(builder, dict(clip_len=3), 'c.py', 'data.train') == 3

    def buggy(cfg):
        return None + 1  # a TypeError that is a bug, not a config mistake: it keeps its traceback

    with pytest.raises(TypeError, match='unsupported operand'):
        build_or_explain(buggy, {}, 'c.py', 'model')


@pytest.mark.slow
def test_every_shipped_config_passes_the_checks():
    paths = [p for p in sorted(glob.glob(str(REPO_ROOT / 'configs' / '**' / '*.py'), recursive=True))
             if '_base_' not in p]
    assert paths
    for path in paths:
        load_config(path)
