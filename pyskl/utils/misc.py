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
