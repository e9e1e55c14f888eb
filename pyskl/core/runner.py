"""The training runner: mmcv's `EpochBasedRunner` with atomic checkpoints, exact resume, mixed precision and no
idle sleeps."""
import os.path as osp
from typing import Optional, Union

import torch
import torch.distributed as dist
from mmcv.runner import HOOKS, EpochBasedRunner, Hook, OptimizerHook

from ..utils.checkpoint import (
    CheckpointError,
    get_state_dict,
    load_checkpoint_file,
    load_state_dict_checked,
    point_link,
    save_checkpoint_atomic,
)
from ..utils.dist import get_dist_info
from ..utils.misc import get_rng_states, set_rng_states


class EpochRunner(EpochBasedRunner):
    """Epoch-based runner.

    Differences from mmcv's runner:
      * checkpoints and the ``latest.pth`` link are written to a temporary name and renamed, so a killed run never
        leaves a truncated checkpoint behind;
      * an epoch checkpoint also holds the Python / numpy / torch generator states of every rank (gathered by
        :class:`RngStateHook` after the evaluation of that epoch) and the sampler state, so a resumed run repeats
        the uninterrupted one bit for bit; only the model's ``state_dict()`` is saved (no non-persistent buffers);
      * :meth:`resume` reads the checkpoint with the safe loader, loads the weights strictly and treats the metadata
        as data: mmcv's ``resume`` parses ``meta['config']`` as Python, which would run code from the file;
      * with ``amp_dtype`` set, the forward pass of every training iteration runs under ``torch.autocast``;
      * no fixed sleeps between epochs.
    """

    def __init__(self, *args, amp_dtype: Optional[torch.dtype] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype
        self.rng_states: Optional[list] = None  # one entry per rank, gathered at the end of epoch `rng_epoch`
        self.rng_epoch: Optional[int] = None

    def _device_type(self) -> str:
        for p in self.model.parameters():
            return p.device.type
        return 'cpu'

    def run_iter(self, data_batch, train_mode: bool, **kwargs) -> None:
        if train_mode and self.amp_dtype is not None:
            with torch.autocast(self._device_type(), dtype=self.amp_dtype):
                return super().run_iter(data_batch, train_mode, **kwargs)
        return super().run_iter(data_batch, train_mode, **kwargs)

    def train(self, data_loader, **kwargs) -> None:
        self.model.train()
        self.mode = 'train'
        self.data_loader = data_loader
        self._max_iters = self._max_epochs * len(self.data_loader)
        self.call_hook('before_train_epoch')
        for i, data_batch in enumerate(self.data_loader):
            self.data_batch = data_batch
            self._inner_iter = i
            self.call_hook('before_train_iter')
            self.run_iter(data_batch, train_mode=True, **kwargs)
            self.call_hook('after_train_iter')
            del self.data_batch
            self._iter += 1
        self.call_hook('after_train_epoch')
        self._epoch += 1

    @torch.no_grad()
    def val(self, data_loader, **kwargs) -> None:
        self.model.eval()
        self.mode = 'val'
        self.data_loader = data_loader
        self.call_hook('before_val_epoch')
        for i, data_batch in enumerate(self.data_loader):
            self.data_batch = data_batch
            self._inner_iter = i
            self.call_hook('before_val_iter')
            self.run_iter(data_batch, train_mode=False)
            self.call_hook('after_val_iter')
            del self.data_batch
        self.call_hook('after_val_epoch')

    def save_checkpoint(self, out_dir: str, filename_tmpl: str = 'epoch_{}.pth', save_optimizer: bool = True,
                        meta: Optional[dict] = None, create_symlink: bool = True) -> None:
        meta = {} if meta is None else dict(meta)
        if self.meta is not None:
            meta.update(self.meta)
        meta.update(epoch=self.epoch + 1, iter=self.iter, world_size=self.world_size,
                    sampler=dict(epoch=self.epoch + 1, position=0))
        if self.rng_epoch == self.epoch and self.rng_states is not None:
            meta['rng_states'] = self.rng_states
        filename = filename_tmpl.format(self.epoch + 1)
        filepath = osp.join(out_dir, filename)
        if create_symlink:
            # what mmcv's CheckpointHook records after the save, recorded in the file itself, so that a resumed
            # run's metadata equals the uninterrupted run's
            meta.setdefault('hook_msgs', {})
            meta['hook_msgs'] = dict(meta['hook_msgs'], last_ckpt=filepath)
        save_checkpoint_atomic(self.model, filepath, optimizer=self.optimizer if save_optimizer else None, meta=meta)
        if create_symlink:
            point_link(osp.join(out_dir, 'latest.pth'), filename)

    def resume(self, checkpoint: Union[str, dict], resume_optimizer: bool = True, map_location='cpu',
               source: Optional[str] = None) -> None:
        """Continue a run from an epoch checkpoint (a path, or a checkpoint already read from ``source``).

        Restores the weights (strictly), the optimizer, the epoch and iteration counters, the hook messages (best
        score and best checkpoint) and, when the checkpoint has them, this rank's generator states. The rest of
        the metadata (e.g. ``config``, the config text) is never parsed.
        """
        if isinstance(checkpoint, str):
            source = checkpoint
            checkpoint = load_checkpoint_file(checkpoint, map_location)
        source = source or '<checkpoint>'
        meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
        if not isinstance(meta, dict) or 'epoch' not in meta or 'iter' not in meta:
            raise CheckpointError(f'checkpoint {source} has no epoch / iter metadata, so it is not a training '
                                  'checkpoint of this project; start from its weights with load_from instead')
        state_dict = get_state_dict(checkpoint, source)
        state_dict = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}
        load_state_dict_checked(self.model, state_dict, strict=True, source=source, logger=self.logger)
        self._epoch = int(meta['epoch'])
        self._iter = int(meta['iter'])
        self.meta = dict(self.meta or {})
        hook_msgs = dict(meta.get('hook_msgs', {}))
        for key in ('best_ckpt', 'last_ckpt'):
            # a work dir may have been moved or copied: its files are the ones next to the resumed checkpoint's run
            if isinstance(hook_msgs.get(key), str):
                hook_msgs[key] = osp.join(self.work_dir, osp.basename(hook_msgs[key]))
        self.meta['hook_msgs'] = hook_msgs
        if 'optimizer' in checkpoint and resume_optimizer:
            if isinstance(self.optimizer, dict):
                for k in self.optimizer:
                    self.optimizer[k].load_state_dict(checkpoint['optimizer'][k])
            else:
                self.optimizer.load_state_dict(checkpoint['optimizer'])
        rank, world_size = get_dist_info()
        states = meta.get('rng_states')
        if states is None:
            self.logger.warning(f'{source} holds no generator states (written by an older version); the resumed '
                                'run continues but will not repeat an uninterrupted run exactly')
        elif len(states) != world_size:
            self.logger.warning(f'{source} holds the generator states of {len(states)} processes but this run has '
                                f'{world_size}; continuing with fresh states, not an exact resume')
        else:
            set_rng_states(states[rank])
        self.logger.info(f'resumed epoch {self.epoch}, iter {self.iter} from {source}')


@HOOKS.register_module()
class RngStateHook(Hook):
    """Gather every rank's generator states at the end of each training epoch, for the epoch checkpoint.

    Register it after the evaluation hook and before the checkpoint hook (priority 45 between ``ABOVE_NORMAL``
    and ``NORMAL``): the saved states are then those the next epoch starts from.
    """

    def after_train_epoch(self, runner) -> None:
        states = get_rng_states()
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, states)
        else:
            gathered = [states]
        runner.rng_states = gathered
        runner.rng_epoch = runner.epoch


class AmpOptimizerHook(OptimizerHook):
    """Optimizer step with a gradient scaler for float16 autocast (CUDA), with optional gradient clipping."""

    def __init__(self, grad_clip: Optional[dict] = None, init_scale: float = 2.**16, enabled: bool = True):
        super().__init__(grad_clip=grad_clip)
        self.scaler = torch.amp.GradScaler('cuda', init_scale=init_scale, enabled=enabled)

    def after_train_iter(self, runner) -> None:
        runner.optimizer.zero_grad()
        self.scaler.scale(runner.outputs['loss']).backward()
        self.scaler.unscale_(runner.optimizer)
        if self.grad_clip is not None:
            grad_norm = self.clip_grads(runner.model.parameters())
            if grad_norm is not None:
                runner.log_buffer.update({'grad_norm': float(grad_norm)}, runner.outputs['num_samples'])
        self.scaler.step(runner.optimizer)
        self.scaler.update()
