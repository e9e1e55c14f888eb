"""Checkpoint loading that works with torch's ``weights_only`` default and with pyskl's own checkpoints."""
import pickle
from typing import Any, Union

import numpy as np
import torch
from mmcv.runner import load_state_dict

from .logger import get_root_logger


def _numpy_safe_globals() -> list:
    names = [np.dtype, np.ndarray]
    core = getattr(np, '_core', None) or np.core
    names.append(core.multiarray.scalar)
    names.append(core.multiarray._reconstruct)
    names += [type(np.dtype(t)) for t in ('float64', 'float32', 'int64', 'int32', 'bool')]
    return names


def load_checkpoint_file(path: str, map_location: Union[str, torch.device] = 'cpu') -> Any:
    """Load a checkpoint file safely.

    Tries ``torch.load(weights_only=True)`` first, then again with numpy scalars and dtypes allowed (checkpoints
    written by the original pyskl keep numpy floats in their metadata). Arbitrary objects are never unpickled.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint {path} does not exist') from None
    except (pickle.UnpicklingError, RuntimeError, AttributeError):
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)


def get_state_dict(checkpoint: Any, path: str = '<checkpoint>') -> dict:
    """The model weights of a loaded checkpoint (a bare state_dict or a dict with ``state_dict`` / ``model``)."""
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
        if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
    raise ValueError(f'checkpoint {path}: no state_dict found (keys: {list(checkpoint)[:10]})')


def load_checkpoint(model: torch.nn.Module, path: str, map_location='cpu', strict: bool = False,
                    logger=None, revise_keys=((r'^module\.', ''), )) -> dict:
    """Load weights from ``path`` into ``model`` and return the checkpoint dict.

    Missing and unexpected keys are reported through the logger (or raise when ``strict``). ``module.`` prefixes
    left by DataParallel wrappers are removed.
    """
    import re
    checkpoint = load_checkpoint_file(path, map_location)
    state_dict = get_state_dict(checkpoint, path)
    for pattern, repl in revise_keys:
        state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
    load_state_dict(getattr(model, 'module', model), state_dict, strict=strict, logger=logger or get_root_logger())
    return checkpoint if isinstance(checkpoint, dict) else {'state_dict': checkpoint}
