"""Evaluation hooks that run the project's own test loops (no CUDA-only collection, no fixed sleeps)."""
import os.path as osp

from mmcv.runner import DistEvalHook as MMCVDistEvalHook
from mmcv.runner import EvalHook as MMCVEvalHook


class EvalHook(MMCVEvalHook):
    """Evaluate on one process every ``interval`` epochs; ``save_best='auto'`` keeps the best checkpoint.

    Greater-is-better keys include ``acc`` (top-k and mean-class accuracy) and ``hm`` (harmonic means).
    """
    greater_keys = ['acc', 'top', 'AR@', 'auc', 'precision', 'mAP', 'hm', 'harmonic']

    def __init__(self, dataloader, **kwargs):
        from ..apis.test import single_gpu_test
        kwargs.setdefault('test_fn', single_gpu_test)
        super().__init__(dataloader, **kwargs)


class DistEvalHook(MMCVDistEvalHook):
    """Evaluate on every rank and gather the results on rank 0 in dataset order (works over gloo and NCCL)."""
    greater_keys = EvalHook.greater_keys

    def __init__(self, dataloader, **kwargs):
        from ..apis.test import multi_gpu_test
        kwargs.setdefault('test_fn', multi_gpu_test)
        super().__init__(dataloader, **kwargs)

    def _do_evaluate(self, runner) -> None:
        if self.tmpdir is None:
            self.tmpdir = osp.join(runner.work_dir, '.eval_hook')
        super()._do_evaluate(runner)
