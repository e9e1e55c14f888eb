"""The one checkpoint reader and writer of the project.

Every path that reads a checkpoint (``load_from``, ``--resume-from``, auto-resume, a backbone's ``pretrained=``,
``tools/test.py -C``) goes through :func:`load_checkpoint_file`, which unpickles with ``weights_only=True``:
tensors, plain Python containers, strings and numbers (plus numpy arrays, dtypes and scalars, which pyskl's own
checkpoints keep in their metadata). Nothing in the file can run code. Full unpickling exists only as an explicit
opt-in: the config key ``unsafe_load_checkpoint = True`` or the ``--unsafe-load`` flag of the tools, which call
:func:`set_unsafe_load`. It is never a fallback.

Checkpoints are written by :func:`save_checkpoint_atomic`: the file is written under a temporary name, flushed to
disk and renamed, so a killed run leaves either the old file or the new one, never a truncated one. Only the
module's own ``state_dict()`` is saved, so non-persistent buffers (e.g. the tokenized class sentences of a text
branch) never go into a file; old files that hold them still load (:func:`load_state_dict_checked` drops them).
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Union

import numpy as np
import torch

from .io import atomic_open
from .logger import get_root_logger
from .seed_checkpoint import seed_checkpoint_hint

_UNSAFE = {'enabled': False}
UNSAFE_HINT = ('if you trust the file and the people who made it, load it with full unpickling: '
               '--unsafe-load (tools) or unsafe_load_checkpoint = True (config)')


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read, or whose weights do not fit the model."""


def set_unsafe_load(enabled: bool) -> None:
    """Allow (``True``) or forbid (``False``, the default) full unpickling of checkpoints in this process."""
    _UNSAFE['enabled'] = bool(enabled)
    if enabled:
        get_root_logger().warning('unsafe checkpoint loading is on: checkpoint files are fully unpickled and can '
                                  'run code; only load files you trust')


def unsafe_load_enabled() -> bool:
    return _UNSAFE['enabled']


@contextmanager
def unsafe_load(enabled: bool = True) -> Iterator[None]:
    """Temporarily allow full unpickling (for a block that loads one trusted file)."""
    before = _UNSAFE['enabled']
    _UNSAFE['enabled'] = bool(enabled)
    try:
        yield
    finally:
        _UNSAFE['enabled'] = before


def _numpy_safe_globals() -> list:
    names = [np.dtype, np.ndarray]
    core = getattr(np, '_core', None) or np.core
    names.append(core.multiarray.scalar)
    names.append(core.multiarray._reconstruct)
    names += [type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'uint8', 'bool')]
    return names


def _check_checkpoint_header(path: str) -> None:
    """Refuse a file that is neither a zip archive (``torch.save``) nor a pickle (the legacy format), so that a text
    file or an empty file is not reported as a checkpoint holding unsafe objects."""
    if osp.isdir(path):
        raise CheckpointError(f'checkpoint {path} is a folder; give the .pth file')
    with open(path, 'rb') as handle:
        head = handle.read(4)
    if not head:
        raise CheckpointError(f'checkpoint {path} is empty; the file is damaged or truncated')
    if not (head.startswith(b'PK') or head[:1] == b'\x80'):
        raise CheckpointError(f'checkpoint {path} is not a PyTorch checkpoint (it starts with {head!r}, not a zip '
                              'archive or a pickle); give the .pth file that torch.save wrote')


def load_checkpoint_file(path: str, map_location: Union[str, torch.device] = 'cpu',
                         unsafe: Optional[bool] = None) -> Any:
    """Read a checkpoint file without running code from it.

    Args:
        path (str): the file.
        map_location: where tensors go (default: the CPU).
        unsafe (bool, optional): full unpickling for this call; ``None`` follows :func:`set_unsafe_load`.

    Raises:
        FileNotFoundError: no such file (or a ``latest.pth`` link whose target is gone).
        CheckpointError: the file is truncated or not a checkpoint, or it holds objects other than tensors and
            plain data; the message names the file and says what to do.
    """
    path = os.fspath(path)
    if not osp.exists(path):
        if osp.lexists(path):
            raise FileNotFoundError(f'checkpoint {path} is a link to {os.readlink(path)}, which does not exist')
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    _check_checkpoint_header(path)
    unsafe = unsafe_load_enabled() if unsafe is None else unsafe
    if unsafe:
        get_root_logger().warning(f'{path}: loading with full unpickling (unsafe load opt-in)')
        try:
            return torch.load(path, map_location=map_location, weights_only=False)
        except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
            raise CheckpointError(f'checkpoint {path} cannot be read ({exc}); the file is damaged or truncated') \
                from None
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        named = [line for line in lines if 'global' in line.lower() or 'unsupported' in line.lower()]
        first = (named or lines or [type(exc).__name__])[0]
        if 'weights_only' in str(exc) or named:
            raise CheckpointError(f'checkpoint {path} holds objects that the safe loader refuses ({first}); '
                                  f'{UNSAFE_HINT}') from None
        raise CheckpointError(f'checkpoint {path} cannot be read ({first}); the file is damaged or truncated') \
            from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f'checkpoint {path} cannot be read ({message}); the file is damaged or truncated') \
            from None


def get_state_dict(checkpoint: Any, path: str = '<checkpoint>') -> dict:
    """The model weights of a loaded checkpoint (a bare state_dict or a dict with ``state_dict`` / ``model``)."""
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
        raise CheckpointError(f'checkpoint {path}: no state_dict found (keys: {list(checkpoint)[:10]})')
    raise CheckpointError(f'checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict of tensors')


def non_persistent_buffer_names(model: torch.nn.Module) -> List[str]:
    """Full names of the buffers registered with ``persistent=False`` (never saved, ignored when loading)."""
    names = []
    for prefix, module in model.named_modules():
        for name in getattr(module, '_non_persistent_buffers_set', ()):
            names.append(f'{prefix}.{name}' if prefix else name)
    return names


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DataParallel / DistributedDataParallel wrappers."""
    while hasattr(model, 'module') and isinstance(model.module, torch.nn.Module):
        model = model.module
    return model


def _format_keys(keys: List[str], limit: int = 30) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def load_state_dict_checked(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor], strict: bool = True,
                            source: str = '<checkpoint>', logger=None) -> Dict[str, List[str]]:
    """Copy ``state_dict`` into ``model`` and account for every key.

    Keys of non-persistent buffers (written by older versions) are dropped. With ``strict``, any missing key,
    unexpected key or shape mismatch raises a :class:`CheckpointError` that lists them; otherwise the matching
    entries are loaded and the rest is reported as a warning.

    Returns:
        dict: ``missing``, ``unexpected`` and ``mismatched`` key lists.
    """
    logger = logger or get_root_logger()
    model = unwrap_model(model)
    skip = set(non_persistent_buffer_names(model))
    state_dict = {k: v for k, v in state_dict.items() if k not in skip}
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [k for k, v in state_dict.items()
                  if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)]
    report = dict(missing=missing, unexpected=unexpected, mismatched=mismatched)
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys (in the model, not in the checkpoint): '
                        f'{_format_keys(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys (in the checkpoint, not in the model): '
                        f'{_format_keys(unexpected)}')
    if mismatched:
        problems.append(f'{len(mismatched)} shape mismatches: ' + _format_keys(
            [f'{k} {tuple(state_dict[k].shape)} in the checkpoint vs {tuple(own[k].shape)} in the model'
             for k in mismatched]))
    hint = seed_checkpoint_hint(state_dict) if problems else None
    if problems and strict:
        advice = (hint + '. ') if hint else ''
        raise CheckpointError(f'checkpoint {source} does not fit the model {type(model).__name__}: '
                              + '; '.join(problems) + f'. {advice}Use the config the checkpoint was trained with, or '
                              'load it partially on purpose (tools/test.py --non-strict)')
    if hint:
        logger.warning(f'{source}: {hint}')
    for problem in problems:
        logger.warning(f'{source}: {problem}')
    loadable = {k: v for k, v in state_dict.items() if k in own and k not in mismatched}
    model.load_state_dict(loadable, strict=False)
    return report


def load_checkpoint(model: torch.nn.Module, path: str, map_location='cpu', strict: bool = False,
                    logger=None, revise_keys=((r'^module\.', ''), )) -> dict:
    """Load weights from ``path`` into ``model`` and return the checkpoint dict.

    With ``strict`` a checkpoint that does not fit the model raises :class:`CheckpointError` listing the keys;
    otherwise the misfits are reported through the logger. ``module.`` prefixes left by DataParallel wrappers
    are removed.
    """
    checkpoint = load_checkpoint_file(path, map_location)
    state_dict = get_state_dict(checkpoint, path)
    for pattern, repl in revise_keys:
        state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
    load_state_dict_checked(model, state_dict, strict=strict, source=path, logger=logger)
    return checkpoint if isinstance(checkpoint, dict) and 'state_dict' in checkpoint else {'state_dict': state_dict}


def save_checkpoint_atomic(model: torch.nn.Module, path: str, optimizer=None, meta: Optional[dict] = None) -> None:
    """Write ``{'meta', 'state_dict', 'optimizer'}`` to ``path`` atomically (temporary file, fsync, rename).

    Tensors are moved to the CPU; only the model's ``state_dict()`` is saved (non-persistent buffers stay out).
    """
    model = unwrap_model(model)
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    checkpoint = dict(meta=dict(meta or {}), state_dict=state_dict)
    if optimizer is not None:
        if isinstance(optimizer, dict):
            checkpoint['optimizer'] = {k: o.state_dict() for k, o in optimizer.items()}
        else:
            checkpoint['optimizer'] = optimizer.state_dict()
    with atomic_open(path, 'wb') as f:
        torch.save(checkpoint, f)


def point_link(link: str, target_name: str) -> None:
    """Make ``link`` a symbolic link to ``target_name`` (a name in the same folder), replacing it atomically."""
    tmp_link = link + '.tmp'
    if osp.lexists(tmp_link):
        os.remove(tmp_link)
    os.symlink(target_name, tmp_link)
    os.replace(tmp_link, link)
