"""Dataset and pipeline registries, `build_dataset` and `build_dataloader`."""
import random
from functools import partial

import numpy as np
import torch
from mmcv.parallel import collate
from mmcv.runner import get_dist_info
from mmcv.utils import Registry
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from ..utils.registry import build_with_known_types

DATASETS = Registry('dataset')
PIPELINES = Registry('pipeline')


def build_dataset(cfg, default_args=None):
    """Build a dataset (or a `RepeatDataset` / `ConcatDataset` wrapper) from a config dict.

    A list of configs becomes a `ConcatDataset` of them.
    """
    from .dataset_wrappers import ConcatDataset, RepeatDataset
    if isinstance(cfg, (list, tuple)):
        return ConcatDataset([build_dataset(c, default_args) for c in cfg])
    if cfg.get('type') == 'RepeatDataset':
        return RepeatDataset(build_dataset(cfg['dataset'], default_args), cfg['times'])
    if cfg.get('type') == 'ConcatDataset':
        return ConcatDataset([build_dataset(c, default_args) for c in cfg['datasets']])
    return build_with_known_types(cfg, DATASETS, default_args)


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
                     seed: int = None,
                     drop_last: bool = False,
                     pin_memory: bool = None,
                     persistent_workers: bool = None,
                     dist: bool = True,
                     **kwargs) -> DataLoader:
    """Build a PyTorch DataLoader.

    In distributed mode every process loads ``videos_per_gpu`` samples per step through a `DistributedSampler`
    (which shuffles with ``seed`` when ``shuffle``); otherwise one process loads ``videos_per_gpu`` samples.

    Args:
        dataset: the dataset.
        videos_per_gpu (int): batch size of one process.
        workers_per_gpu (int): loader worker processes of one process.
        shuffle (bool): shuffle the samples every epoch.
        seed (int, optional): base seed of the sampler and of the workers.
        drop_last (bool): drop the last incomplete batch.
        pin_memory (bool, optional): pin host memory; defaults to True when CUDA is available.
        persistent_workers (bool, optional): keep workers alive between epochs; defaults to True when there are
            workers.
        kwargs: passed on to `DataLoader` (e.g. ``prefetch_factor``).
    """
    rank, world_size = get_dist_info()
    if dist:
        sampler = DistributedSampler(dataset, world_size, rank, shuffle=shuffle, seed=seed or 0)
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
