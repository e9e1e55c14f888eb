"""The training runner: mmcv's `EpochBasedRunner` with atomic checkpoints, mixed precision and no idle sleeps."""
import os
import os.path as osp
from typing import Optional

import torch
from mmcv.runner import EpochBasedRunner, OptimizerHook
from mmcv.runner.checkpoint import save_checkpoint


class EpochRunner(EpochBasedRunner):
    """Epoch-based runner.

    Differences from mmcv's runner:
      * checkpoints and the ``latest.pth`` link are written to a temporary name and renamed, so a killed run never
        leaves a truncated checkpoint behind;
      * with ``amp_dtype`` set, the forward pass of every training iteration runs under ``torch.autocast``;
      * no fixed sleeps between epochs.
    """

    def __init__(self, *args, amp_dtype: Optional[torch.dtype] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp_dtype = amp_dtype

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
        meta.update(epoch=self.epoch + 1, iter=self.iter)
        filename = filename_tmpl.format(self.epoch + 1)
        filepath = osp.join(out_dir, filename)
        tmp_path = filepath + '.tmp'
        save_checkpoint(self.model, tmp_path, optimizer=self.optimizer if save_optimizer else None, meta=meta)
        os.replace(tmp_path, filepath)
        if create_symlink:
            link = osp.join(out_dir, 'latest.pth')
            tmp_link = link + '.tmp'
            if osp.lexists(tmp_link):
                os.remove(tmp_link)
            os.symlink(filename, tmp_link)
            os.replace(tmp_link, link)


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
