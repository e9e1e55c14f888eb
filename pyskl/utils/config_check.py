"""Load a config for the tools and refuse the mistakes that mmcv lets through silently.

mmcv's ``Config`` accepts any top-level name, so ``total_epoch = 1`` (for ``total_epochs``) or
``--cfg-options total_epoch=1`` trains the base config's 12 epochs without a word, and a value of the wrong type
(``total_epochs=one``) fails deep inside the runner. `load_config` reads the file, applies the overrides and checks:

- the file exists and parses (a syntax error names the file and line, without mmcv's traceback);
- no top-level name is a near miss of a key the tools read (``total_epoch``, ``optimzer``): configs may hold helper
  variables (``clip_len``, ``train_pipeline``), so only names within one or two letters of a known key are refused;
- a ``--cfg-options`` key adds no top-level name that is neither in the config nor known to the tools;
- the scalars the runner reads have the right type (``total_epochs``, ``optimizer.lr``, ``data.videos_per_gpu``...);
- the optimizer's arguments exist in its ``torch.optim`` class, and ``lr_config``'s policy and arguments in mmcv.

Every refusal is a `ConfigError` whose message names the file, the key and what to do.
"""
import ast
import difflib
import inspect
import os
import os.path as osp
from typing import Any, Dict, Iterable, Optional

from .validation import is_int

# the top-level keys that the tools, the runner and the recognizers read
KNOWN_TOP_LEVEL_KEYS = (
    'model', 'data', 'optimizer', 'optimizer_config', 'lr_config', 'momentum_config', 'total_epochs', 'runner',
    'checkpoint_config', 'evaluation', 'log_config', 'log_level', 'work_dir', 'load_from', 'resume_from',
    'auto_resume', 'workflow', 'dist_params', 'find_unused_parameters', 'seed', 'fp16', 'performance',
    'tensorboard', 'unsafe_load_checkpoint', 'custom_hooks', 'gpu_ids', 'opencv_num_threads', 'mp_start_method',
    'custom_imports')


class ConfigError(ValueError):
    """A config (or a ``--cfg-options`` override) that the tools refuse; the message says what to change."""


def _near_miss(name: str, known: Iterable[str]) -> Optional[str]:
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.85)
    return matches[0] if matches and matches[0] != name else None


def check_top_level_keys(cfg, path: str, options: Optional[Dict[str, Any]] = None) -> None:
    """Refuse top-level names that look like a misspelt known key, and overrides that add unknown top-level keys.

    Args:
        cfg (mmcv.Config): the loaded config (before the overrides are merged).
        path (str): the config file, for the messages.
        options (dict, optional): the ``--cfg-options`` overrides (dotted keys).
    """
    for name in cfg.keys():
        if name in KNOWN_TOP_LEVEL_KEYS:
            continue
        guess = _near_miss(name, KNOWN_TOP_LEVEL_KEYS)
        if guess is not None:
            raise ConfigError(f'config {path}: top-level key {name!r} is not read by anything; did you mean '
                              f'{guess!r}? Rename it (a helper variable that close to a known key is refused too)')
    for key in (options or {}):
        top = key.split('.')[0]
        if top in cfg or top in KNOWN_TOP_LEVEL_KEYS:
            continue
        guess = _near_miss(top, KNOWN_TOP_LEVEL_KEYS) or _near_miss(top, cfg.keys())
        hint = f'did you mean {guess!r}? ' if guess else ''
        raise ConfigError(f'--cfg-options {key}: {top!r} is neither a key of config {path} nor one the tools read; '
                          f'{hint}an override of a new top-level key would be ignored')


def _require(ok: bool, path: str, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f'config {path}: {key} is {value!r} ({type(value).__name__}), expected {expected}; fix it '
                          f'in the config or the --cfg-options value')


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_value_types(cfg, path: str) -> None:
    """Check the type and range of the scalars that the runner and the loaders read (only those that are set)."""
    checks = (
        ('total_epochs', cfg.get('total_epochs'), lambda v: is_int(v) and v > 0, 'a positive int'),
        ('seed', cfg.get('seed'), is_int, 'an int'),
    )
    data = cfg.get('data') or {}
    checks += (
        ('data.videos_per_gpu', data.get('videos_per_gpu'), lambda v: is_int(v) and v > 0, 'a positive int'),
        ('data.workers_per_gpu', data.get('workers_per_gpu'), lambda v: is_int(v) and v >= 0,
         'an int >= 0'),
    )
    for section in ('evaluation', 'checkpoint_config', 'log_config'):
        interval = (cfg.get(section) or {}).get('interval')
        checks += ((f'{section}.interval', interval, lambda v: is_int(v) and v > 0, 'a positive int'),)
    optimizer = cfg.get('optimizer') or {}
    for key in ('lr', 'weight_decay', 'momentum'):
        checks += ((f'optimizer.{key}', optimizer.get(key), lambda v: _is_number(v) and v >= 0,
                    'a number >= 0'),)
    for key, value, ok, expected in checks:
        if value is not None:
            _require(ok(value), path, key, value, expected)


def check_optimizer_arguments(cfg, path: str) -> None:
    """Refuse an optimizer argument that its ``torch.optim`` class does not take (``momentun=0.9``)."""
    import torch
    optimizer = cfg.get('optimizer')
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get('type'), str):
        return
    cls = getattr(torch.optim, optimizer['type'], None)
    if not inspect.isclass(cls):
        return  # a custom optimizer registered elsewhere: its builder reports its own errors
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [name for name in params if name not in ('self', 'params')]
    for key in optimizer:
        if key in ('type', 'paramwise_cfg', 'constructor') or key in known:
            continue
        guess = _near_miss(key, known)
        hint = f'did you mean {guess!r}? ' if guess else ''
        raise ConfigError(f'config {path}: optimizer.{key} is not an argument of torch.optim.{optimizer["type"]}; '
                          f'{hint}known: {", ".join(known)}')


def _hook_arguments(cls) -> Optional[list]:
    """The keyword arguments an mmcv hook class takes along its ``**kwargs`` chain; None if the chain stays open."""
    names = []
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters
        names += [n for n, p in params.items() if n != 'self' and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return names
    return None


def check_lr_config(cfg, path: str) -> None:
    """Refuse an unknown ``lr_config.policy`` (listing the known ones) and an argument its hook does not take."""
    lr_config = cfg.get('lr_config')
    if not isinstance(lr_config, dict) or not isinstance(lr_config.get('policy'), str):
        return
    from mmcv.runner import HOOKS
    policy = lr_config['policy']
    name = (policy.title() if policy == policy.lower() else policy) + 'LrUpdaterHook'
    cls = HOOKS.get(name)
    if cls is None:
        known = sorted(k[:-len('LrUpdaterHook')] for k in HOOKS.module_dict if k.endswith('LrUpdaterHook'))
        guess = _near_miss(policy, known)
        hint = f'did you mean {guess!r}? ' if guess else ''
        raise ConfigError(f'config {path}: lr_config.policy {policy!r} is not an mmcv learning-rate policy; {hint}'
                          f'known: {", ".join(known)}')
    known = _hook_arguments(cls)
    if known is None:
        return
    for key in lr_config:
        if key != 'policy' and key not in known:
            guess = _near_miss(key, known)
            hint = f'did you mean {guess!r}? ' if guess else ''
            raise ConfigError(f'config {path}: lr_config.{key} is not an argument of the {policy!r} policy '
                              f'({name}); {hint}known: {", ".join(known)}')


def _check_syntax(path: str, seen: Optional[set] = None) -> None:
    """Parse ``path`` and its ``_base_`` files ourselves: mmcv's own check raises from inside a temporary folder
    and prints a second, unrelated traceback when that folder is cleaned up."""
    seen = set() if seen is None else seen
    path = osp.abspath(path)
    if path in seen or not osp.isfile(path) or not path.endswith('.py'):
        return
    seen.add(path)
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ConfigError(f'config {path}, line {exc.lineno}: syntax error ({exc.msg}); fix the file') from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '_base_' for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return
            for base in [bases] if isinstance(bases, str) else list(bases):
                if isinstance(base, str):
                    _check_syntax(osp.join(osp.dirname(path), base), seen)


def load_config(path: str, options: Optional[Dict[str, Any]] = None):
    """Read ``path``, merge the ``--cfg-options`` overrides and run the checks above.

    Args:
        path (str): the config file.
        options (dict, optional): dotted-key overrides (``optimizer.lr=0.1``).

    Returns:
        mmcv.Config: the merged config.

    Raises:
        ConfigError: the file is missing or unreadable, has a syntax error, or fails a check (the message says which).
    """
    from mmcv import Config
    if not osp.isfile(path):
        raise ConfigError(f'config {path} does not exist' + (' (it is a folder)' if osp.isdir(path) else '')
                          + '; check the path (configs are under configs/)')
    _check_syntax(path)
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as exc:
        raise ConfigError(f'config {path} (or one of its _base_ files) does not parse: {exc}; fix the file') \
            from None
    except (FileNotFoundError, ImportError, KeyError) as exc:
        raise ConfigError(f'config {path} cannot be loaded: {exc}; check its _base_ paths and imports') from None
    check_top_level_keys(cfg, path, options)
    if options:
        cfg.merge_from_dict(options)
    check_value_types(cfg, path)
    check_optimizer_arguments(cfg, path)
    check_lr_config(cfg, path)
    return cfg


def check_output_file(path: str, option: str, overwrite: bool = False) -> None:
    """Before any work is done: refuse an output ``path`` that exists (unless ``overwrite``) or cannot be written.

    Args:
        path (str): the file the tool will write.
        option (str): the command-line option that named it, for the message (``--out``).
        overwrite (bool): replacing an existing file was asked for.
    """
    if osp.isdir(path):
        raise ConfigError(f'{option} {path} is a folder; give a file name')
    if osp.exists(path) and not overwrite:
        raise ConfigError(f'{option} {path} already exists; choose another name, or pass --overwrite to replace it')
    folder = osp.dirname(osp.abspath(path))
    try:  # create the folder now (an empty folder is all that is written) so the run does not fail at its end
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f'{option} {path}: cannot create the folder {folder} ({exc.strerror}); choose a writable '
                          f'location') from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f'{option} {path}: the folder {folder} is not writable; choose a writable location')


def check_work_dir(path: str) -> None:
    """Refuse a work dir that is an existing file or lies under one, or that cannot be created."""
    probe = osp.abspath(path)
    while not osp.exists(probe):
        probe = osp.dirname(probe)
    if not osp.isdir(probe):
        raise ConfigError(f'work dir {path}: {probe} is a file, not a folder; choose another --work-dir')
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f'work dir {path}: {probe} is not writable; choose another --work-dir')


SIGNATURE_MISTAKES = ('unexpected keyword argument', 'required positional argument', 'takes no arguments',
                      'required keyword-only argument')


def build_or_explain(builder, section_cfg, path: str, section: str, *args):
    """``builder(section_cfg, *args)``; a constructor refusing an argument (a misspelt or missing key) becomes a
    `ConfigError` naming the config file and the section, instead of a traceback from inside mmcv.

    Args:
        builder (callable): e.g. ``build_model`` or ``build_dataset``.
        section_cfg (dict): the part of the config to build.
        path (str): the config file, for the message.
        section (str): where ``section_cfg`` sits in the config (``model``, ``data.train``).
    """
    try:
        return builder(section_cfg, *args)
    except TypeError as exc:
        if not any(text in str(exc) for text in SIGNATURE_MISTAKES):
            raise
        raise ConfigError(f'config {path}, {section}: {exc}; check the spelling of the argument against the '
                          f'class (its docstring lists the arguments)') from exc
