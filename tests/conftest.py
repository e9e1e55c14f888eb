"""Shared test helpers: where the shared data lives, the pyskl golden outputs, the `slow` marker.

Test modules can use the fixtures (``golden``, ``shared_dir``) or import the plain functions with
``from conftest import load_golden, find_shared_dir`` (for module-level parametrisation).
"""
import gzip
import os
import pickle
import sys
from functools import lru_cache
from pathlib import Path
from typing import Optional

import pytest

# Tests never contact the Hugging Face hub (the tests of the online branch mock it and lift this themselves); set
# before transformers / huggingface_hub are imported, and inherited by the tools the tests start.
os.environ.setdefault('HF_HUB_OFFLINE', '1')

REPO_ROOT = Path(__file__).resolve().parents[1]
# modules shared by tests of several folders (tiny models, the per-point heatmap reference, end-to-end helpers);
# the test folders mirror the package, the helpers belong to none of them
HELPERS = Path(__file__).resolve().parent / 'helpers'
if str(HELPERS) not in sys.path:
    sys.path.insert(0, str(HELPERS))
GOLDEN_RELPATH = Path('compat') / 'pyskl_golden.pkl.gz'


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a test that takes more than about 10 seconds')


def find_shared_dir() -> Path:
    """The project's shared folder, ``../shared`` next to the repository root (it may not exist)."""
    return REPO_ROOT.parent / 'shared'


@lru_cache(maxsize=1)
def load_golden() -> Optional[dict]:
    """The outputs recorded from pyskl (``../shared/compat/pyskl_golden.pkl.gz``), or None when absent."""
    path = find_shared_dir() / GOLDEN_RELPATH
    if not path.is_file():
        return None
    with gzip.open(path, 'rb') as f:
        return pickle.load(f)


@pytest.fixture(scope='session')
def shared_dir() -> Path:
    """The shared folder (``../shared``); tests needing a file in it should skip when it is missing."""
    return find_shared_dir()


@pytest.fixture(scope='session')
def golden() -> dict:
    """The golden outputs of pyskl; skips the test when the file is absent."""
    data = load_golden()
    if data is None:
        pytest.skip(f'golden file ../shared/{GOLDEN_RELPATH.as_posix()} is not available')
    return data


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each test on one torch thread: the tensors are tiny, and extra threads only stall on a busy 2-core box."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
