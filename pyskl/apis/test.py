"""Testing entry points: pyskl's ``single_gpu_test`` / ``multi_gpu_test`` (the loops live in `pyskl.core.loops`,
where the evaluation hooks use them too) and the ``dataset.evaluate`` arguments of a config."""
from typing import List, Optional

from ..core.loops import collect_results, multi_gpu_test, run_test, single_gpu_test

__all__ = ['single_gpu_test', 'multi_gpu_test', 'collect_results', 'run_test', 'evaluation_kwargs',
           'EVAL_HOOK_KEYS']

# keys of the `evaluation` config that configure the evaluation hook, not the metrics
EVAL_HOOK_KEYS = ('interval', 'start', 'save_best', 'rule', 'by_epoch', 'broadcast_bn_buffer', 'tmpdir',
                  'gpu_collect', 'out_dir', 'less_keys', 'greater_keys')


def evaluation_kwargs(cfg, metrics: Optional[List[str]] = None) -> dict:
    """The arguments of ``dataset.evaluate`` from the config's ``evaluation`` dict (``metrics`` overrides)."""
    kwargs = {k: v for k, v in cfg.get('evaluation', {}).items() if k not in EVAL_HOOK_KEYS}
    if metrics:
        kwargs['metrics'] = metrics
    return kwargs
