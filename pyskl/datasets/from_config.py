"""Datasets and data loaders from a config's ``data`` section: the keys it may hold, the loader settings of one
split, and the test loader that `tools/test.py`, the end-of-training test and the analysis tools share."""
from typing import Optional, Tuple

from .builder import build_dataloader, build_dataset

LOADER_KEYS = ('videos_per_gpu', 'workers_per_gpu', 'persistent_workers', 'pin_memory', 'prefetch_factor',
               'drop_last', 'shuffle')
SHARED_LOADER_KEYS = ('videos_per_gpu', 'workers_per_gpu', 'persistent_workers', 'pin_memory', 'prefetch_factor')
DATA_KEYS = ('train', 'val', 'test', 'train_dataloader', 'val_dataloader', 'test_dataloader') + SHARED_LOADER_KEYS


def check_data_keys(cfg) -> None:
    """Refuse unknown keys in ``cfg.data`` (e.g. the typo ``videos_per_gpus``), listing the known ones."""
    unknown = sorted(set(cfg.data) - set(DATA_KEYS))
    if unknown:
        raise KeyError(f'unknown keys in data: {unknown}; known: {list(DATA_KEYS)}')


def dataset_defaults(num_classes: Optional[int], **extra) -> dict:
    """Default arguments for `build_dataset`: the model's ``num_classes`` (so every label is range-checked)."""
    defaults = dict(extra)
    if num_classes is not None:
        defaults['num_classes'] = int(num_classes)
    return defaults


def loader_settings(cfg, split: str, **defaults) -> dict:
    """Data-loader arguments for ``split`` ('train', 'val' or 'test') from ``cfg.data``.

    ``cfg.data`` holds the shared settings (``videos_per_gpu``, ``workers_per_gpu``, ``persistent_workers``,
    ``pin_memory``, ``prefetch_factor``); ``cfg.data.<split>_dataloader`` overrides them for one split.
    """
    data = cfg.data
    check_data_keys(cfg)
    settings = dict(videos_per_gpu=data.get('videos_per_gpu', 1), workers_per_gpu=data.get('workers_per_gpu', 2))
    for key in ('persistent_workers', 'pin_memory', 'prefetch_factor'):
        if key in data:
            settings[key] = data[key]
    settings.update(defaults)
    settings.update(data.get(f'{split}_dataloader', {}))
    unknown = set(settings) - set(LOADER_KEYS)
    if unknown:
        raise KeyError(f'unknown keys in data.{split}_dataloader: {sorted(unknown)}; known: {list(LOADER_KEYS)}')
    return settings


def build_eval_loader(cfg, split: str, distributed: bool, num_classes: Optional[int] = None) -> Tuple:
    """The dataset ``cfg.data.<split>`` ('val' or 'test') in test mode and its loader: no shuffling, results in
    dataset order, no persistent workers (unless the split's loader settings ask for them).

    ``num_classes`` (the model's) is passed to the dataset, which then checks every label against it.
    """
    dataset = build_dataset(cfg.data[split], dataset_defaults(num_classes, test_mode=True))
    loader = build_dataloader(dataset, dist=distributed, shuffle=False,
                              **loader_settings(cfg, split, persistent_workers=False))
    return dataset, loader


def build_test_loader(cfg, distributed: bool, num_classes: Optional[int] = None) -> Tuple:
    """`build_eval_loader` of ``cfg.data.test``: the test dataset and its loader."""
    return build_eval_loader(cfg, 'test', distributed, num_classes)
