"""Seeding helpers."""
import os
import random
from typing import Optional

import numpy as np
import torch

from .dist import broadcast_object


def init_random_seed(seed: Optional[int] = None) -> int:
    """Return ``seed``, or a random one that every rank agrees on."""
    if seed is not None:
        return int(seed)
    return int(broadcast_object(int(np.random.randint(2**31))))


def set_random_seed(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch; ``deterministic`` also makes cuDNN / torch choose deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ['PYTHONHASHSEED'] = str(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
        torch.use_deterministic_algorithms(True, warn_only=True)


def get_rng_states() -> dict:
    """The states of Python's, numpy's and torch's global generators as plain data (tensors, lists, numbers).

    Saved in every epoch checkpoint so that a resumed run draws exactly the numbers the uninterrupted run drew.
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    states = dict(python=[version, list(internal), gauss],
                  numpy=[name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
                  torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Restore generator states written by :func:`get_rng_states`."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = states['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        cuda_states = states['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return 'not installed'


def git_commit(path: str) -> Optional[str]:
    """The commit of the git checkout that holds ``path`` (with ``+dirty`` for local changes), or None."""
    import subprocess
    try:
        commit = subprocess.run(['git', '-C', path, 'rev-parse', 'HEAD'], capture_output=True, text=True,
                                timeout=10)
        if commit.returncode != 0:
            return None
        status = subprocess.run(['git', '-C', path, 'status', '--porcelain', '--untracked-files=no'],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ('+dirty' if status.stdout.strip() else '')


def collect_env() -> dict:
    """The software and hardware a run used: Python, torch, CUDA, cuDNN, mmcv, numpy, transformers, the device and
    the project's git commit (when it runs from a git checkout)."""
    import platform
    import sys

    from .. import __version__
    env = {'Python': sys.version.replace('\n', ' '), 'Platform': platform.platform(),
           'PyTorch': torch.__version__, 'CUDA available': torch.cuda.is_available(),
           'CUDA (torch build)': torch.version.cuda or 'none', 'cuDNN': torch.backends.cudnn.version(),
           'numpy': np.__version__, 'mmcv': _package_version('mmcv'),
           'transformers': _package_version('transformers'), 'pyskl': __version__}
    if torch.cuda.is_available():
        env['Device'] = ', '.join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    else:
        env['Device'] = f'CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)'
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commit = git_commit(repo) if os.path.exists(os.path.join(repo, '.git')) else None
    env['git commit'] = commit or 'not a git checkout'
    return env
