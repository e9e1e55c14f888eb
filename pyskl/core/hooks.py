"""Evaluation hooks that run the project's own test loops (no CUDA-only collection, no fixed sleeps).

Both hooks keep the best checkpoint consistent with the run's metadata: a new best checkpoint is written before the
previous one is removed (mmcv removes first, so a kill in between loses the best file), and ``train_model``
registers them before the checkpoint hook, so an epoch checkpoint records the best score of its own evaluation.
"""
import os.path as osp

from mmcv.runner import DistEvalHook as MMCVDistEvalHook
from mmcv.runner import EvalHook as MMCVEvalHook

from .loops import multi_gpu_test, single_gpu_test


class _SaveBestMixin:

    def _save_ckpt(self, runner, key_score) -> None:
        if self.by_epoch:
            current, cur_type, cur_time = f'epoch_{runner.epoch + 1}', 'epoch', runner.epoch + 1
        else:
            current, cur_type, cur_time = f'iter_{runner.iter + 1}', 'iter', runner.iter + 1
        best_score = runner.meta['hook_msgs'].get('best_score', self.init_value_map[self.rule])
        if not self.compare_func(key_score, best_score):
            return
        previous = self.best_ckpt_path
        best_ckpt_name = f'best_{self.key_indicator}_{current}.pth'
        self.best_ckpt_path = osp.join(self.out_dir, best_ckpt_name)
        runner.meta['hook_msgs']['best_score'] = float(key_score)
        runner.meta['hook_msgs']['best_ckpt'] = self.best_ckpt_path
        runner.save_checkpoint(self.out_dir, filename_tmpl=best_ckpt_name, create_symlink=False)
        same_dir = previous and osp.realpath(osp.dirname(previous)) == osp.realpath(self.out_dir)
        if same_dir and previous != self.best_ckpt_path and osp.isfile(previous):
            self.file_client.remove(previous)
            runner.logger.info(f'The previous best checkpoint {previous} was removed')
        runner.logger.info(f'Now best checkpoint is saved as {best_ckpt_name}.')
        runner.logger.info(f'Best {self.key_indicator} is {key_score:0.4f} at {cur_time} {cur_type}.')


class EvalHook(_SaveBestMixin, MMCVEvalHook):
    """Evaluate on one process every ``interval`` epochs; ``save_best='auto'`` keeps the best checkpoint.

    Greater-is-better keys include ``acc`` (top-k and mean-class accuracy) and ``hm`` (harmonic means).
    """
    greater_keys = ['acc', 'top', 'AR@', 'auc', 'precision', 'mAP', 'hm', 'harmonic']

    def __init__(self, dataloader, **kwargs):
        kwargs.setdefault('test_fn', single_gpu_test)
        super().__init__(dataloader, **kwargs)


class DistEvalHook(_SaveBestMixin, MMCVDistEvalHook):
    """Evaluate on every rank and gather the results on rank 0 in dataset order (works over gloo and NCCL)."""
    greater_keys = EvalHook.greater_keys

    def __init__(self, dataloader, **kwargs):
        kwargs.setdefault('test_fn', multi_gpu_test)
        super().__init__(dataloader, **kwargs)

    def _do_evaluate(self, runner) -> None:
        if self.tmpdir is None:
            self.tmpdir = osp.join(runner.work_dir, '.eval_hook')
        super()._do_evaluate(runner)
