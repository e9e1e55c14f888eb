"""The test loops: a model over a data loader, on one process, or on every rank gathered in dataset order.

They sit in ``core`` because the evaluation hooks of the training loop run them; ``pyskl.apis`` re-exports them as
pyskl's ``single_gpu_test`` / ``multi_gpu_test``.
"""
from typing import List, Optional

import mmcv
import torch
import torch.distributed as dist

from ..utils.dist import get_dist_info


def _run_batch(model, data) -> list:
    with torch.no_grad():
        result = model(return_loss=False, **data)
    return list(result)


def single_gpu_test(model, data_loader, show_progress: bool = True) -> List:
    """Run ``model(return_loss=False)`` over ``data_loader``; one result (e.g. a score array) per sample, in order."""
    model.eval()
    results = []
    dataset = data_loader.dataset
    prog_bar = mmcv.ProgressBar(len(dataset)) if show_progress else None
    for data in data_loader:
        batch_results = _run_batch(model, data)
        results.extend(batch_results)
        if prog_bar is not None:
            for _ in range(len(batch_results)):
                prog_bar.update()
    return results


def collect_results(part: list, size: int) -> Optional[list]:
    """Gather every rank's results on rank 0 in dataset order.

    The sampler hands rank ``r`` the samples ``r, r + W, r + 2W, ...`` of the index list padded to a multiple of the
    world size ``W``; interleaving the parts restores the order and the padding is dropped. Other ranks get None.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return part[:size]
    parts = [None] * world_size if rank == 0 else None
    dist.gather_object(part, parts, dst=0)
    if rank != 0:
        return None
    if len({len(p) for p in parts}) != 1:
        raise RuntimeError(f'ranks returned different numbers of results: {[len(p) for p in parts]}; '
                           'the test sampler must pad every rank to the same length')
    ordered = []
    for group in zip(*parts):
        ordered.extend(group)
    return ordered[:size]


def multi_gpu_test(model, data_loader, tmpdir: Optional[str] = None, gpu_collect: bool = False) -> Optional[List]:
    """Distributed inference: every rank runs its share, rank 0 returns all results in dataset order.

    ``tmpdir`` and ``gpu_collect`` are accepted for compatibility with mmcv's hooks; results travel through
    ``torch.distributed.gather_object``, which works over both gloo (CPU) and NCCL (GPU).
    """
    model.eval()
    rank, world_size = get_dist_info()
    dataset = data_loader.dataset
    prog_bar = mmcv.ProgressBar(len(dataset)) if rank == 0 else None
    results = []
    for data in data_loader:
        batch_results = _run_batch(model, data)
        results.extend(batch_results)
        if prog_bar is not None:
            for _ in range(len(batch_results) * world_size):
                prog_bar.update()
    return collect_results(results, len(dataset))


def run_test(model, data_loader, distributed: bool) -> Optional[List]:
    """`multi_gpu_test` under a process group, `single_gpu_test` otherwise."""
    return multi_gpu_test(model, data_loader) if distributed else single_gpu_test(model, data_loader)
