"""`train_model`: the training loop of every recognizer, on one process or many, on GPUs or CPUs."""
import copy
import glob
import os
import os.path as osp
import re
from typing import Optional, Tuple

import torch
import torch.distributed as dist
from mmcv.runner import DistSamplerSeedHook, build_optimizer

from ..core.fast_paths import apply_fast_paths
from ..core.hooks import DistEvalHook, EvalHook
from ..core.parallel import wrap_model
from ..core.runner import AmpOptimizerHook, EpochRunner, RngStateHook
from ..datasets import build_dataloader
from ..datasets.from_config import build_eval_loader, build_test_loader, check_data_keys, loader_settings
from ..models.recognizers.base import model_num_classes
from ..utils import get_root_logger
from ..utils.checkpoint import CheckpointError, load_checkpoint, load_checkpoint_file
from ..utils.dist import get_dist_info, is_distributed
from ..utils.io import stale_temporary_files
from ..utils.tensorboard import add_tensorboard_hook
from .test import evaluation_kwargs, run_test
from .work_dir import run_records

# the evaluation hook runs before the checkpoint hook (NORMAL, 50) so that an epoch checkpoint records the best
# score of its own evaluation; the generator states are gathered in between
EVAL_HOOK_PRIORITY = 'ABOVE_NORMAL'
RNG_HOOK_PRIORITY = 45


def _epoch_of(path: str) -> int:
    match = re.fullmatch(r'epoch_(\d+)\.pth', osp.basename(path))
    return int(match.group(1)) if match else -1


def find_resume_checkpoint(work_dir: str, logger=None) -> Optional[Tuple[dict, str]]:
    """The checkpoint auto-resume continues from: ``latest.pth``, else the newest readable ``epoch_*.pth``.

    A ``latest.pth`` that is a dangling link or cannot be read is reported by path, and the newest readable epoch
    checkpoint is used instead (with a warning). Returns None when the work dir holds no checkpoint at all.

    Raises:
        CheckpointError: there are checkpoints but none can be read (the run does not silently start over).
    """
    logger = logger or get_root_logger()
    for stale in stale_temporary_files(work_dir, '*.pth'):  # half-written by a killed attempt
        try:
            os.remove(stale)
            logger.info(f'removed {stale}: a checkpoint a killed attempt did not finish writing')
        except OSError:
            pass
    latest = osp.join(work_dir, 'latest.pth')
    epochs = sorted(glob.glob(osp.join(glob.escape(work_dir), 'epoch_*.pth')), key=_epoch_of, reverse=True)
    epochs = [p for p in epochs if _epoch_of(p) >= 0]
    candidates = ([latest] if osp.lexists(latest) else []) + epochs
    if not candidates:
        return None
    failures = []
    for path in candidates:
        try:
            checkpoint = load_checkpoint_file(path)
        except (FileNotFoundError, CheckpointError) as exc:
            failures.append(f'{path}: {exc}')
            logger.warning(f'cannot resume from {path}: {exc}')
            continue
        if failures:
            logger.warning(f'resuming from {path} instead, the newest readable checkpoint in {work_dir}')
        return checkpoint, path
    raise CheckpointError(f'{work_dir} holds checkpoints but none can be read: ' + '; '.join(failures)
                          + '. Resume explicitly with --resume-from FILE, or train in a new --work-dir')


def remove_orphan_best(work_dir: str, epoch: int, logger) -> None:
    """Remove ``best_*_epoch_K.pth`` with ``K > epoch``: written by evaluations of a killed attempt after the
    checkpoint being resumed; the resumed run repeats those epochs and writes them again."""
    for path in glob.glob(osp.join(glob.escape(work_dir), 'best_*_epoch_*.pth')):
        match = re.search(r'_epoch_(\d+)\.pth$', path)
        if match and int(match.group(1)) > epoch:
            os.remove(path)
            logger.info(f'removed {path}: written after epoch {epoch} by an interrupted attempt of this run; '
                        'the resumed run evaluates that epoch again')


def warn_if_never_validated(cfg, max_epochs: int, logger) -> None:
    """--validate with an evaluation schedule that never fires within ``max_epochs`` epochs."""
    evaluation = cfg.get('evaluation', {}) or {}
    if not evaluation.get('by_epoch', True):
        return
    interval = int(evaluation.get('interval', 1))
    start = evaluation.get('start')
    first = interval if start is None else int(start)  # mmcv's EvalHook: the first epoch that evaluates
    if first > max_epochs:
        logger.warning(f'--validate: evaluation.interval={interval} (start={start}) with {max_epochs} epochs '
                       'never evaluates; no validation score and no best checkpoint will be written. Lower '
                       'evaluation.interval or train longer')


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
    check_data_keys(cfg)
    num_classes = model_num_classes(model)
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
    if validate:
        warn_if_never_validated(cfg, max_epochs, logger)
    amp_dtype = fast.amp_dtype
    runner = EpochRunner(model, optimizer=optimizer, work_dir=cfg.work_dir, logger=logger, meta=meta or {},
                         max_epochs=max_epochs, amp_dtype=amp_dtype)
    runner.timestamp = timestamp

    optimizer_config = cfg.get('optimizer_config', {}) or {}
    if amp_dtype == torch.float16:
        optimizer_config = AmpOptimizerHook(grad_clip=optimizer_config.get('grad_clip'), init_scale=fast.loss_scale)
    add_tensorboard_hook(cfg)  # the `tensorboard` switch: one more logger hook
    runner.register_training_hooks(cfg.lr_config, optimizer_config, cfg.get('checkpoint_config'), cfg.log_config,
                                   cfg.get('momentum_config', None))
    runner.register_hook(DistSamplerSeedHook())
    runner.register_hook(RngStateHook(), priority=RNG_HOOK_PRIORITY)
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
        _, val_loader = build_eval_loader(cfg, 'val', distributed, num_classes)
        hook_type = DistEvalHook if distributed else EvalHook
        eval_hook = hook_type(val_loader, **eval_cfg)
        runner.register_hook(eval_hook, priority=EVAL_HOOK_PRIORITY)

    found = None
    if cfg.get('resume_from'):
        found = load_checkpoint_file(cfg.resume_from), cfg.resume_from
    elif cfg.get('auto_resume', True):
        found = find_resume_checkpoint(cfg.work_dir, logger)
    if found is not None:
        checkpoint, path = found
        logger.info(f'resuming from {path}')
        runner.resume(checkpoint, source=path)
        if get_dist_info()[0] == 0:
            remove_orphan_best(cfg.work_dir, runner.epoch, logger)
    else:
        if cfg.get('auto_resume', True) and run_records(cfg.work_dir) and get_dist_info()[0] == 0:
            # the run continues but was killed before its first checkpoint: nothing of it is kept but best files
            remove_orphan_best(cfg.work_dir, 0, logger)
        if cfg.get('load_from'):
            load_checkpoint(runner.model, cfg.load_from, logger=logger)

    runner.run(data_loaders, cfg.get('workflow', [('train', 1)]))
    if distributed:
        dist.barrier()

    outputs = {}
    if test.get('test_last') or test.get('test_best'):
        outputs = _test_after_training(runner, cfg, eval_hook, test, distributed, logger)
    return outputs


def _test_after_training(runner, cfg, eval_hook, test: dict, distributed: bool, logger) -> dict:
    test_dataset, loader = build_test_loader(cfg, distributed, model_num_classes(runner.model))
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
            load_checkpoint(runner.model, ckpt, strict=True, logger=logger)
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
