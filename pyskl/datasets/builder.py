"""Dataset and pipeline registries, `build_dataset` and `build_dataloader`.

A training loader (``seed`` given) draws its order and every sample's augmentation from the seed alone: the
:class:`SeededSampler` permutes the indices with a generator seeded by ``(seed, epoch)`` and pairs each index with
a per-sample seed; :class:`SeededSamples` seeds Python, numpy and torch with it before the pipeline runs. The
numbers a sample sees therefore depend neither on the number of workers nor on what happened earlier in the
process, which is what makes a resumed run repeat the uninterrupted one bit for bit.
"""
import math
import random
from functools import partial
from typing import Iterator, Optional, Tuple

import numpy as np
import torch
from mmcv.parallel import collate
from mmcv.runner import get_dist_info
from torch.utils.data import DataLoader, Dataset, Sampler, get_worker_info
from torch.utils.data.distributed import DistributedSampler

from ..utils.registry import build_with_known_types
from .dataset_wrappers import ConcatDataset, RepeatDataset
from .registry import DATASETS, PIPELINES

__all__ = ['DATASETS', 'PIPELINES', 'build_dataset', 'build_dataloader', 'SeededSampler', 'SeededSamples']


def build_dataset(cfg, default_args=None):
    """Build a dataset (or a `RepeatDataset` / `ConcatDataset` wrapper) from a config dict.

    A list of configs becomes a `ConcatDataset` of them.
    """
    if isinstance(cfg, (list, tuple)):
        return ConcatDataset([build_dataset(c, default_args) for c in cfg])
    if cfg.get('type') == 'RepeatDataset':
        return RepeatDataset(build_dataset(cfg['dataset'], default_args), cfg['times'])
    if cfg.get('type') == 'ConcatDataset':
        return ConcatDataset([build_dataset(c, default_args) for c in cfg['datasets']])
    return build_with_known_types(cfg, DATASETS, default_args)


class SeededSampler(Sampler):
    """Indices of one rank for one epoch, each paired with its own sample seed: yields ``(index, seed)``.

    Like `DistributedSampler`, the (shuffled) index list is padded to a multiple of ``num_replicas`` and rank ``r``
    takes entries ``r, r + W, ...``. The permutation and the sample seeds come from ``numpy.random.default_rng``
    seeded with ``(seed, epoch)``; call :meth:`set_epoch` before each epoch (``DistSamplerSeedHook`` does).

    Args:
        dataset: the dataset (only its length is used).
        num_replicas (int): number of ranks.
        rank (int): this rank.
        shuffle (bool): permute the indices every epoch.
        seed (int): base seed.
    """

    def __init__(self, dataset, num_replicas: int = 1, rank: int = 0, shuffle: bool = True, seed: int = 0) -> None:
        self.size = len(dataset)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.epoch = 0
        self.num_samples = math.ceil(self.size / self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        rng = np.random.default_rng([self.seed % 2**32, self.epoch])
        order = rng.permutation(self.size) if self.shuffle else np.arange(self.size)
        seeds = rng.integers(0, 2**31, size=self.size)
        total = self.num_samples * self.num_replicas
        positions = np.arange(total) % self.size
        for pos in positions[self.rank::self.num_replicas]:
            yield int(order[pos]), int(seeds[pos])


class SeededSamples(Dataset):
    """A dataset read with ``(index, seed)`` keys: Python, numpy and torch are seeded with ``seed`` first.

    In the main process (no loader workers) the global generator states are restored afterwards, so loading does
    not change the numbers the model draws. Plain integer keys read the inner dataset unchanged; other attributes
    are those of the inner dataset.
    """

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name):
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        index, seed = key
        in_worker = get_worker_info() is not None
        if not in_worker:
            saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
        random.seed(seed)
        np.random.seed(seed)
        torch.default_generator.manual_seed(seed)  # the CPU generator only: CUDA's stays the model's
        try:
            return self.dataset[index]
        finally:
            if not in_worker:
                random.setstate(saved[0])
                np.random.set_state(saved[1])
                torch.set_rng_state(saved[2])


def worker_init_fn(worker_id: int, num_workers: int, rank: int, seed: int) -> None:
    """Give every worker of every rank its own, reproducible numpy / random / torch seed."""
    worker_seed = num_workers * rank + worker_id + seed
    np.random.seed(worker_seed % 2**32)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)


def build_dataloader(dataset,
                     videos_per_gpu: int,
                     workers_per_gpu: int,
                     shuffle: bool = True,
                     seed: Optional[int] = None,
                     drop_last: bool = False,
                     pin_memory: bool = None,
                     persistent_workers: bool = None,
                     dist: bool = True,
                     **kwargs) -> DataLoader:
    """Build a PyTorch DataLoader.

    In distributed mode every process loads ``videos_per_gpu`` samples per step through a `DistributedSampler`
    (which shuffles with ``seed`` when ``shuffle``); otherwise one process loads ``videos_per_gpu`` samples.
    With a ``seed`` (training), the order and every sample's random numbers come from :class:`SeededSampler` and
    :class:`SeededSamples` instead: reproducible from the seed and the epoch alone.

    Args:
        dataset: the dataset.
        videos_per_gpu (int): batch size of one process.
        workers_per_gpu (int): loader worker processes of one process.
        shuffle (bool): shuffle the samples every epoch.
        seed (int, optional): base seed of the sampler, of every sample's augmentation and of the workers.
        drop_last (bool): drop the last incomplete batch.
        pin_memory (bool, optional): pin host memory; defaults to True when CUDA is available.
        persistent_workers (bool, optional): keep workers alive between epochs; defaults to True when there are
            workers.
        kwargs: passed on to `DataLoader` (e.g. ``prefetch_factor``).
    """
    rank, world_size = get_dist_info()
    if seed is not None:
        replicas, this_rank = (world_size, rank) if dist else (1, 0)
        sampler = SeededSampler(dataset, replicas, this_rank, shuffle=shuffle, seed=seed)
        dataset = SeededSamples(dataset)
        shuffle = False
    elif dist:
        sampler = DistributedSampler(dataset, world_size, rank, shuffle=shuffle, seed=0)
        shuffle = False
    else:
        sampler = None
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    if persistent_workers is None:
        persistent_workers = workers_per_gpu > 0
    if workers_per_gpu == 0:
        persistent_workers = False
        kwargs.pop('prefetch_factor', None)
    init_fn = partial(worker_init_fn, num_workers=workers_per_gpu, rank=rank,
                      seed=seed) if seed is not None else None
    return DataLoader(
        dataset,
        batch_size=videos_per_gpu,
        sampler=sampler,
        num_workers=workers_per_gpu,
        collate_fn=partial(collate, samples_per_gpu=videos_per_gpu),
        pin_memory=pin_memory,
        shuffle=shuffle,
        worker_init_fn=init_fn,
        drop_last=drop_last,
        persistent_workers=persistent_workers,
        **kwargs)
