"""The `tensorboard` config switch."""
import importlib.util

import pytest
from mmcv import Config

from pyskl.utils.tensorboard import add_tensorboard_hook


def config(**kwargs):
    return Config(dict(work_dir='work_dirs/x', log_config=dict(interval=5, hooks=[dict(type='TextLoggerHook')]),
                       **kwargs))


def fake_installed(monkeypatch, installed: bool):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: (real('json') if installed else None) if name == 'tensorboard' else
                        real(name, *a))


def test_off_by_default_changes_nothing():
    cfg = config()
    assert add_tensorboard_hook(cfg).log_config.hooks == [dict(type='TextLoggerHook')]
    cfg = config(tensorboard=False)
    assert add_tensorboard_hook(cfg).log_config.hooks == [dict(type='TextLoggerHook')]


def test_on_adds_the_hook_once(monkeypatch):
    fake_installed(monkeypatch, True)
    cfg = add_tensorboard_hook(config(tensorboard=True))
    assert cfg.log_config.hooks[-1] == dict(type='TensorboardLoggerHook', log_dir='work_dirs/x/tf_logs')
    assert len(add_tensorboard_hook(cfg).log_config.hooks) == 2
    cfg = add_tensorboard_hook(config(tensorboard=dict(log_dir='tb', interval=2)))
    assert cfg.log_config.hooks[-1] == dict(type='TensorboardLoggerHook', log_dir='tb', interval=2)
    with pytest.raises(KeyError, match='unknown options'):
        add_tensorboard_hook(config(tensorboard=dict(logdir='tb')))


def test_missing_package_names_the_install(monkeypatch):
    fake_installed(monkeypatch, False)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[tensorboard\]"'):
        add_tensorboard_hook(config(tensorboard=True))
    with pytest.raises(TypeError, match='tensorboard='):
        add_tensorboard_hook(config(tensorboard='yes'))


def test_training_turns_the_switch_into_a_hook(tmp_path, monkeypatch):
    """train_model applies the switch: with the package missing, training stops before it starts, naming it."""
    from e2e_utils import make_tiny_dataset, write_tiny_config

    from pyskl.apis import train_model
    from pyskl.datasets import build_dataset
    from pyskl.models import build_model
    fake_installed(monkeypatch, False)
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl', train_per_class=1)
    cfg = Config.fromfile(str(write_tiny_config(tmp_path / 'tiny.py', ann)))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.tensorboard = True
    with pytest.raises(ImportError, match='tensorboard'):
        train_model(build_model(cfg.model), build_dataset(cfg.data.train), cfg)
    assert not (tmp_path / 'work' / 'epoch_1.pth').exists()
