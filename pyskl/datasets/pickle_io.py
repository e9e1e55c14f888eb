"""Reading the data pickles of a dataset (annotation files, ``raw_file`` pickles, memcached values).

Every one goes through the restricted unpickler of `pyskl.utils.safe_pickle` (builtin containers / scalars and
numpy arrays only) unless ``unsafe`` (``PoseDataset(unsafe_pickle=True)``), which uses plain ``pickle.load``; every
failure becomes an `AnnotationError` that names the file and says what is wrong.
"""
import os
import os.path as osp
import pickle
from typing import IO, Any

from ..utils.safe_pickle import UnsafeGlobalError, pickle_loader
from .errors import AnnotationError

ANNOTATION_TRUST_HINT = 'load it with PoseDataset(..., unsafe_pickle=True)'


def unpickle_stream(stream: IO[bytes], what: str, unsafe: bool = False, trust_hint: str = ANNOTATION_TRUST_HINT,
                    expected: str = 'a pyskl annotation pickle') -> Any:
    """Unpickle ``stream``; ``what`` names it in errors (e.g. ``'ann_file data/x.pkl'``), ``trust_hint`` says how
    to load a trusted file that holds other globals, ``expected`` what the file should be."""
    try:
        return pickle_loader(unsafe)(stream)
    except UnsafeGlobalError as e:
        raise AnnotationError(f'{what} refers to {e.global_name}, which a data pickle may not load: '
                              'data pickles are read by a restricted unpickler that admits only builtin '
                              'containers / scalars and numpy arrays, because any other global can run code. If '
                              f'you trust the file, {trust_hint}; better, re-save it with plain dicts, lists and '
                              'numpy arrays') from e
    except EOFError as e:
        raise AnnotationError(f'{what} is empty or truncated (the pickle data ends early: {e}); '
                              're-download or regenerate it') from e
    except pickle.UnpicklingError as e:
        if 'truncated' in str(e):
            raise AnnotationError(f'{what} is truncated ({e}); re-download or regenerate it') from e
        raise AnnotationError(f'{what} is not a pickle file ({e}); expected {expected}') from e
    except Exception as e:
        raise AnnotationError(f'{what} could not be unpickled ({type(e).__name__}: {e}); it is corrupt or '
                              f'not {expected}') from e


def read_pickle(path: str, what: str = 'ann_file', unsafe: bool = False, **hints: str) -> Any:
    """Unpickle the file ``path`` (see `unpickle_stream`, which takes ``hints``); a missing file or a folder is
    reported by path."""
    if not osp.exists(path):
        relative = '' if osp.isabs(path) else f' (relative to the working directory {os.getcwd()})'
        raise FileNotFoundError(f'{what} {path} does not exist{relative}. Download or generate the annotation pickle '
                                '(see the scripts in tools/data) or fix the path in the config.')
    if osp.isdir(path):
        raise AnnotationError(f'{what} {path} is a directory; expected a pyskl annotation pickle file')
    with open(path, 'rb') as f:
        return unpickle_stream(f, f'{what} {path}', unsafe, **hints)
