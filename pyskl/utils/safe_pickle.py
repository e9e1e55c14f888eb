"""Restricted unpickling of data files: builtin containers and scalars and numpy arrays, nothing that runs code.

A pickle may name any importable callable (a "global") and call it while it loads, so ``pickle.load`` on a file from
someone else can run their code. pyskl's annotation pickles only hold dicts, lists, tuples, strings, numbers and
numpy arrays, so they load through `RestrictedUnpickler`, which resolves only the globals of `allowed_globals` and
refuses every other one with an `UnsafeGlobalError` naming it.

Python's ``pickle.Unpickler.find_class`` hook is the documented way to do this ("Restricting Globals" in the
``pickle`` documentation); no maintained library offers an allow-list for numpy data, so the list is written here.
The C unpickler calls the hook once per distinct global (later references are memoised), so loading is as fast as
plain ``pickle.load`` (see ``benchmarks/annotation_loading.py``).

Allowed globals (what pickles of numpy 1.x and 2.x arrays, dtypes and scalars name):

- ``builtins``: ``dict``, ``list``, ``tuple``, ``set``, ``frozenset``, ``bytearray``, ``bytes``, ``str``, ``int``,
  ``float``, ``complex``, ``bool``, ``slice``, ``range``; ``collections.OrderedDict``;
- ``_codecs.encode`` for ``latin1`` only (protocols 0-2 store ``bytes`` and numpy buffers that way);
- ``numpy.ndarray``, ``numpy.dtype`` and the dtype classes of ``numpy.dtypes`` (e.g. ``Float32DType``);
- ``_reconstruct`` and ``scalar`` of ``numpy.core.multiarray`` (numpy 1.x) / ``numpy._core.multiarray``
  (numpy 2.x) and their ``_multiarray_umath`` aliases, and ``_frombuffer`` of ``numpy[._]core.numeric``
  (protocol 5).

Names of numpy 1.x (``numpy.core``) resolve to their numpy 2 location without importing the deprecated module.
"""
import builtins
import codecs
import collections
import io
import pickle
from typing import IO, Any, Callable, Dict, Tuple, Union

import numpy as np

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

__all__ = ['UnsafeGlobalError', 'RestrictedUnpickler', 'allowed_globals', 'safe_load', 'safe_loads', 'pickle_loader']

_BUILTINS = ('dict', 'list', 'tuple', 'set', 'frozenset', 'bytearray', 'bytes', 'str', 'int', 'float', 'complex',
             'bool', 'slice', 'range')
_CORE_MODULES = ('numpy.core', 'numpy._core')
# Python 2 module names that protocols 0-2 write for compatibility (pickle's own find_class maps them the same way)
_PY2_MODULES = {'__builtin__': 'builtins'}


class UnsafeGlobalError(pickle.UnpicklingError):
    """A pickle names a global that `RestrictedUnpickler` does not admit.

    Attributes:
        global_name (str): the refused global as ``module.name``.
    """

    def __init__(self, module: str, name: str) -> None:
        self.global_name = f'{module}.{name}'
        super().__init__(f'refused global {self.global_name}: only builtin containers / scalars and numpy arrays, '
                         'dtypes and scalars may be loaded from a data pickle')


def _latin1_encode(obj: str, encoding: str = 'utf-8', errors: str = 'strict') -> bytes:
    """``codecs.encode`` as protocols 0-2 use it for ``bytes`` (``latin1``); other codecs are refused."""
    if codecs.lookup(encoding).name != 'iso8859-1' or not isinstance(obj, str):
        raise UnsafeGlobalError('_codecs', f'encode (with encoding {encoding!r})')
    return codecs.encode(obj, encoding, errors)


def _numpy_dtype_classes() -> Dict[Tuple[str, str], Any]:
    """``numpy.dtypes.XDType`` classes (numpy >= 1.25), which pickles of dtype objects may name."""
    try:
        import numpy.dtypes as dtypes
    except ImportError:
        return {}
    return {('numpy.dtypes', name): cls
            for name, cls in vars(dtypes).items() if isinstance(cls, type) and issubclass(cls, np.dtype)}


def allowed_globals() -> Dict[Tuple[str, str], Any]:
    """The ``(module, name) -> object`` table that `RestrictedUnpickler` resolves globals from."""
    table: Dict[Tuple[str, str], Any] = {('builtins', name): getattr(builtins, name) for name in _BUILTINS}
    table[('collections', 'OrderedDict')] = collections.OrderedDict
    table[('_codecs', 'encode')] = _latin1_encode
    table[('numpy', 'ndarray')] = np.ndarray
    table[('numpy', 'dtype')] = np.dtype
    for core in _CORE_MODULES:
        for module in (f'{core}.multiarray', f'{core}._multiarray_umath'):
            table[(module, '_reconstruct')] = _multiarray._reconstruct
            table[(module, 'scalar')] = _multiarray.scalar
        table[(f'{core}.numeric', '_frombuffer')] = _numeric._frombuffer
    table.update(_numpy_dtype_classes())
    return table


_ALLOWED = allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the globals of `allowed_globals` (see the module docstring).

    Raises:
        UnsafeGlobalError: for any other global; nothing it names is imported or called.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(_PY2_MODULES.get(module, module), name)]
        except KeyError:
            raise UnsafeGlobalError(module, name) from None


def safe_load(file: IO[bytes]) -> Any:
    """``pickle.load(file)`` through `RestrictedUnpickler`."""
    return RestrictedUnpickler(file).load()


def safe_loads(data: Union[bytes, bytearray, memoryview]) -> Any:
    """``pickle.loads(data)`` through `RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


def pickle_loader(unsafe: bool = False) -> Callable[[IO[bytes]], Any]:
    """The function that reads a data pickle: `safe_load`, or plain ``pickle.load`` when ``unsafe`` (an opt-in)."""
    return pickle.load if unsafe else safe_load
