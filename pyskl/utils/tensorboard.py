"""The ``tensorboard`` config switch: turn it into mmcv's TensorboardLoggerHook, or fail early naming the install.

A config sets ``tensorboard = True`` (logs under ``<work_dir>/tf_logs``) or ``tensorboard = dict(log_dir=...,
interval=...)``; the default runtime sets ``tensorboard = False``. The training loop calls
:func:`add_tensorboard_hook` on the config before registering the logger hooks.
"""
import importlib.util
import os.path as osp
from typing import Any

INSTALL_HINT = 'pip install -e ".[tensorboard]" (or pip install tensorboard)'
HOOK_TYPE = 'TensorboardLoggerHook'


def add_tensorboard_hook(cfg: Any) -> Any:
    """Append a ``TensorboardLoggerHook`` to ``cfg.log_config.hooks`` when ``cfg.tensorboard`` asks for it.

    Args:
        cfg (mmcv.Config): the training config (``work_dir`` set); changed in place and returned.

    Raises:
        ImportError: the switch is on but the tensorboard package is missing (the message says how to install it).
        TypeError: the switch is neither a bool nor a dict.
    """
    switch = cfg.get('tensorboard', False)
    if switch is None or switch is False:
        return cfg
    if switch is True:
        options = {}
    elif isinstance(switch, dict):
        options = dict(switch)
    else:
        raise TypeError(f'config key tensorboard={switch!r}: use True, False or dict(log_dir=..., interval=...)')
    if importlib.util.find_spec('tensorboard') is None:
        raise ImportError(f'the config sets tensorboard={switch!r} but the tensorboard package is not installed: '
                          f'{INSTALL_HINT}; or set tensorboard = False')
    log_config = cfg.get('log_config') or dict(interval=20, hooks=[dict(type='TextLoggerHook')])
    hooks = list(log_config.get('hooks', []))
    if any(h.get('type') == HOOK_TYPE for h in hooks):
        return cfg
    unknown = set(options) - {'log_dir', 'interval', 'ignore_last', 'reset_flag', 'by_epoch'}
    if unknown:
        raise KeyError(f'config key tensorboard: unknown options {sorted(unknown)}; known: log_dir, interval, '
                       'ignore_last, reset_flag, by_epoch')
    options.setdefault('log_dir', osp.join(cfg.work_dir, 'tf_logs'))
    hooks.append(dict(type=HOOK_TYPE, **options))
    log_config['hooks'] = hooks
    cfg.log_config = log_config
    return cfg
