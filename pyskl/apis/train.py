"""`train_model`: the training loop of every recognizer, on one process or many, on GPUs or CPUs."""
import copy
import os.path as osp
from typing import Optional

import torch
import torch.distributed as dist
from mmcv.runner import DistSamplerSeedHook, build_optimizer

from ..core.fast_paths import apply_fast_paths
from ..core.hooks import DistEvalHook, EvalHook
from ..core.parallel import wrap_model
from ..core.runner import AmpOptimizerHook, EpochRunner
from ..datasets import build_dataloader, build_dataset
from ..utils import get_root_logger
from ..utils.checkpoint import load_checkpoint
from ..utils.dist import get_dist_info, is_distributed
from .test import evaluation_kwargs, run_test

LOADER_KEYS = ('videos_per_gpu', 'workers_per_gpu', 'persistent_workers', 'pin_memory', 'prefetch_factor',
               'drop_last', 'shuffle')


def loader_settings(cfg, split: str, **defaults) -> dict:
    """Data-loader arguments for ``split`` ('train', 'val' or 'test') from ``cfg.data``.

    ``cfg.data`` holds the shared settings (``videos_per_gpu``, ``workers_per_gpu``, ``persistent_workers``,
    ``pin_memory``, ``prefetch_factor``); ``cfg.data.<split>_dataloader`` overrides them for one split.
    """
    data = cfg.data
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


def build_test_loader(cfg, distributed: bool):
    """The test dataset (``cfg.data.test`` in test mode) and its loader: no shuffling, results in dataset order."""
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader = build_dataloader(dataset, dist=distributed, shuffle=False,
                              **loader_settings(cfg, 'test', persistent_workers=False))
    return dataset, loader


def train_model(model, dataset, cfg, validate: bool = False, test: Optional[dict] = None,
                timestamp: Optional[str] = None, meta: Optional[dict] = None) -> dict:
    """Train ``model`` on ``dataset`` as ``cfg`` says; optionally validate every epoch and test at the end.

    Args:
        model (nn.Module): an unwrapped recognizer.
        dataset (Dataset | list[Dataset]): the training set.
        cfg (mmcv.Config): the whole config (``data``, ``optimizer``, ``optimizer_config``, ``lr_config``,
            ``total_epochs``, ``checkpoint_config``, ``log_config``, ``evaluation``, ``work_dir``, ...).
        validate (bool): register an evaluation hook on ``cfg.data.val``.
        test (dict): ``dict(test_last=bool, test_best=bool)``: test the last and/or best checkpoint on
            ``cfg.data.test`` after training.
        timestamp (str): names the log files.
        meta (dict): saved into every checkpoint (plain Python values only).

    Returns:
        dict: test results by name ('last', 'best'), as evaluated metrics on rank 0.
    """
    test = test or dict(test_last=False, test_best=False)
    logger = get_root_logger(log_level=cfg.get('log_level', 'INFO'))
    distributed = is_distributed()
    datasets = dataset if isinstance(dataset, (list, tuple)) else [dataset]
    data_loaders = [build_dataloader(ds, seed=cfg.get('seed'), dist=distributed,
                                     **loader_settings(cfg, 'train')) for ds in datasets]

    fast = apply_fast_paths(model, cfg, logger=logger)  # cfg.performance: before wrapping and the optimizer
    model = wrap_model(model, distributed, find_unused_parameters=cfg.get('find_unused_parameters', False))
    optimizer = build_optimizer(model, fast.optimizer_config(cfg.optimizer))
    max_epochs = cfg.get('total_epochs', None)
    if max_epochs is None:
        max_epochs = cfg.get('runner', {}).get('max_epochs')
    if max_epochs is None:
        raise KeyError('the config sets neither total_epochs nor runner.max_epochs')
    amp_dtype = fast.amp_dtype
    runner = EpochRunner(model, optimizer=optimizer, work_dir=cfg.work_dir, logger=logger, meta=meta or {},
                         max_epochs=max_epochs, amp_dtype=amp_dtype)
    runner.timestamp = timestamp

    optimizer_config = cfg.get('optimizer_config', {}) or {}
    if amp_dtype == torch.float16:
        optimizer_config = AmpOptimizerHook(grad_clip=optimizer_config.get('grad_clip'), init_scale=fast.loss_scale)
    runner.register_training_hooks(cfg.lr_config, optimizer_config, cfg.get('checkpoint_config'), cfg.log_config,
                                   cfg.get('momentum_config', None))
    if distributed:
        runner.register_hook(DistSamplerSeedHook())
    for hook_cfg in cfg.get('custom_hooks', []):
        hook_cfg = copy.deepcopy(hook_cfg)
        priority = hook_cfg.pop('priority', 'NORMAL')
        from mmcv.runner import HOOKS
        from mmcv.utils import build_from_cfg
        runner.register_hook(build_from_cfg(hook_cfg, HOOKS), priority=priority)

    eval_hook = None
    if validate:
        eval_cfg = dict(cfg.get('evaluation', {}))
        eval_cfg.setdefault('save_best', 'auto')
        eval_cfg.setdefault('by_epoch', True)
        val_dataset = build_dataset(cfg.data.val, dict(test_mode=True))
        val_loader = build_dataloader(val_dataset, dist=distributed, shuffle=False,
                                      **loader_settings(cfg, 'val', persistent_workers=False))
        hook_type = DistEvalHook if distributed else EvalHook
        eval_hook = hook_type(val_loader, **eval_cfg)
        runner.register_hook(eval_hook, priority='LOW')

    latest = osp.join(cfg.work_dir, 'latest.pth')
    if cfg.get('resume_from'):
        runner.resume(cfg.resume_from)
    elif cfg.get('auto_resume', True) and osp.exists(latest):
        logger.info(f'resuming from {latest}')
        runner.resume(latest)
    elif cfg.get('load_from'):
        load_checkpoint(runner.model, cfg.load_from, logger=logger)

    runner.run(data_loaders, cfg.get('workflow', [('train', 1)]))
    if distributed:
        dist.barrier()

    outputs = {}
    if test.get('test_last') or test.get('test_best'):
        outputs = _test_after_training(runner, cfg, eval_hook, test, distributed, logger)
    return outputs


def _test_after_training(runner, cfg, eval_hook, test: dict, distributed: bool, logger) -> dict:
    test_dataset, loader = build_test_loader(cfg, distributed)
    names, ckpts = [], []
    if test.get('test_last'):
        names.append('last')
        ckpts.append(None)
    if test.get('test_best'):
        best = getattr(eval_hook, 'best_ckpt_path', None) if eval_hook is not None else None
        if best is None or not osp.exists(best):
            logger.warning('test_best: no best checkpoint was saved (use --validate); testing the last one instead')
        else:
            names.append('best')
            ckpts.append(best)
    rank, _ = get_dist_info()
    eval_cfg = evaluation_kwargs(cfg)
    outputs = {}
    for name, ckpt in zip(names, ckpts):
        if ckpt is not None:
            load_checkpoint(runner.model, ckpt, logger=logger)
        results = run_test(runner.model, loader, distributed)
        if rank == 0:
            out = osp.join(cfg.work_dir, f'{name}_pred.pkl')
            test_dataset.dump_results(results, out)
            metrics = test_dataset.evaluate(results, logger=logger, **eval_cfg)
            logger.info(f'Testing results of the {name} checkpoint')
            for key, value in metrics.items():
                logger.info(f'{name}/{key}: {value:.04f}')
            outputs[name] = metrics
    return outputs
