"""The restricted unpickler: what data pickles hold loads, every global that could run code is refused."""
import codecs
import gzip
import io
import os
import pickle
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import find_shared_dir

from pyskl.utils.safe_pickle import UnsafeGlobalError, allowed_globals, pickle_loader, safe_load, safe_loads

SHARED = find_shared_dir()
GOLDEN = SHARED / 'compat' / 'pyskl_golden.pkl.gz'
WLASL = SHARED / 'data' / 'wlasl_subset_234_coco17_2d.pkl'

DATA = [
    np.zeros((2, 3, 17, 2), np.float32),
    np.arange(6, dtype=np.float16).reshape(2, 3).T,  # non-contiguous
    np.asfortranarray(np.ones((2, 3))),
    np.float32(1.5), np.int64(-3), np.bool_(True), np.str_('x'),
    np.dtype('float32'), type(np.dtype('int16')),
    np.array(['ab', 'c']), np.zeros(2, dtype=[('x', 'f4'), ('y', 'i2')]), np.array([1, 'x', None], dtype=object),
    b'\x00\xffbytes', bytearray(b'ab'), 'text', 1 + 2j, 2**70, None, True,
    {1, 2}, frozenset([3]), (1, (2, )), [1, [2]], {'a': {'b': [np.zeros(1)]}},
]


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tolist() == b.tolist()
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
def test_data_round_trips_under_every_protocol(protocol):
    for obj in DATA:
        assert_same(safe_loads(pickle.dumps(obj, protocol=protocol)), obj)


def test_numpy_1_names_resolve_without_importing_numpy_core():
    payload = pickle.dumps(np.arange(4, dtype=np.float32), protocol=2)
    assert b'numpy._core.multiarray' in payload or b'numpy.core.multiarray' in payload
    old = payload.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = safe_loads(old)
    np.testing.assert_array_equal(out, np.arange(4, dtype=np.float32))


class Payload:
    """Pickles as ``func(*args)``: what a malicious file does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def malicious_payloads(marker: Path):
    """Payloads by the name of the callable they would run (the module part depends on the protocol)."""
    script = f'open({str(marker)!r}, "w").close()'
    return {
        'open': Payload(open, str(marker), 'w'),
        'exec': Payload(exec, script),
        'eval': Payload(eval, f'exec({script!r})'),
        'system': Payload(os.system, f'touch {marker}'),
        'call': Payload(subprocess.call, ['touch', str(marker)]),
        'Path': Payload(Path, str(marker)),
        'getattr': Payload(getattr, 'x', '__class__'),
        'save': Payload(np.save, str(marker), np.zeros(1)),
        'load': Payload(np.load, str(marker)),
    }


@pytest.mark.parametrize('refused', sorted(malicious_payloads(Path('m'))))
@pytest.mark.parametrize('protocol', [0, 2, 4, 5])
def test_code_globals_are_refused_and_never_run(tmp_path, refused, protocol):
    marker = tmp_path / 'marker'
    payload = pickle.dumps(dict(annotations=[dict(frame_dir='a', x=malicious_payloads(marker)[refused])]),
                           protocol=protocol)
    with pytest.raises(UnsafeGlobalError) as info:
        safe_loads(payload)
    assert info.value.global_name.endswith(f'.{refused}')
    assert f'refused global {info.value.global_name}' in str(info.value)
    assert not marker.exists()


def test_plain_pickle_would_run_the_payload(tmp_path):
    """The opt-in really is plain pickle: the same payload runs through it (a check that the test above can fail)."""
    marker = tmp_path / 'marker'
    payload = pickle.dumps(malicious_payloads(marker)['open'])
    pickle_loader(unsafe=True)(io.BytesIO(payload)).close()
    assert marker.exists()
    assert pickle_loader(unsafe=False) is safe_load


def test_codecs_encode_only_for_latin1():
    assert safe_loads(pickle.dumps(b'\xff\x00', protocol=2)) == b'\xff\x00'
    with pytest.raises(UnsafeGlobalError, match='_codecs.encode'):
        safe_loads(pickle.dumps(Payload(codecs.encode, 'eJwDAAAAAAE=\n', 'base64'), protocol=2))


def test_allow_list_is_only_data_types():
    for (module, name), obj in allowed_globals().items():
        assert module in ('builtins', 'collections', '_codecs') or module.startswith('numpy'), (module, name)
        # classes of data, or the four reconstruction helpers that array / scalar / bytes pickles call
        assert isinstance(obj, type) or name in ('_reconstruct', 'scalar', '_frombuffer', 'encode'), (module, name)
    assert ('builtins', 'getattr') not in allowed_globals()
    assert ('builtins', 'eval') not in allowed_globals()


@pytest.mark.skipif(not WLASL.exists(), reason='shared real data not available')
def test_shared_real_data_loads_restricted():
    with open(WLASL, 'rb') as f:
        data = safe_load(f)
    with open(WLASL, 'rb') as f:
        reference = pickle.load(f)
    assert len(data['annotations']) == len(reference['annotations']) == 234
    first, ref = data['annotations'][0], reference['annotations'][0]
    assert first.keys() == ref.keys()
    np.testing.assert_array_equal(first['keypoint'], ref['keypoint'])


@pytest.mark.skipif(not GOLDEN.exists(), reason='pyskl golden file not available')
def test_pyskl_golden_file_loads_restricted():
    with gzip.open(GOLDEN) as f:
        golden = safe_load(f)
    with gzip.open(GOLDEN) as f:
        reference = pickle.load(f)
    assert_same(golden, reference)
    assert golden['pipelines'][0]['input']['keypoint'].dtype == np.float32
