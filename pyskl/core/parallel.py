"""Model wrappers for one device, one CPU process, and distributed runs."""
import torch
from mmcv.parallel import MMDataParallel, MMDistributedDataParallel


class DistributedDataParallelWrapper(MMDistributedDataParallel):
    """`MMDistributedDataParallel` that also runs test-time forwards on torch 2.x and on the CPU.

    mmcv 1.x reads ``_use_replicated_tensor_module``, an attribute that torch 2.x no longer sets.
    """
    _use_replicated_tensor_module = False


def wrap_model(model: torch.nn.Module, distributed: bool, find_unused_parameters: bool = False):
    """Move ``model`` to this process's device and wrap it for the mmcv runner.

    GPU + distributed: DDP on the local GPU. CPU + distributed: DDP with ``device_ids=None`` over gloo.
    Otherwise `MMDataParallel` on GPU 0, or on the CPU (``device_ids=None``).
    """
    if distributed:
        if torch.cuda.is_available():
            model = model.cuda()
            return DistributedDataParallelWrapper(model, device_ids=[torch.cuda.current_device()],
                                                  broadcast_buffers=False,
                                                  find_unused_parameters=find_unused_parameters)
        return DistributedDataParallelWrapper(model, device_ids=None, broadcast_buffers=False,
                                              find_unused_parameters=find_unused_parameters)
    if torch.cuda.is_available():
        return MMDataParallel(model.cuda(), device_ids=[0])
    return MMDataParallel(model, device_ids=None)
