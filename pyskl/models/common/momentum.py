"""Momentum distillation parts (ALBEF-style): an EMA copy of a module, a FIFO feature queue, mixed soft targets."""
import copy
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['MomentumCopy', 'FeatureQueue', 'distillation_targets', 'EMPTY_LABEL', 'NEGATIVE_LABEL']

EMPTY_LABEL = -1  # a queue slot never written: left out of the loss
NEGATIVE_LABEL = -100  # a slot holding a filler vector: used as a negative of every clip (the original code's init)


def _parameters_to_buffers(module: nn.Module) -> Dict[str, List[Tuple[nn.Module, str]]]:
    """Turn every parameter of ``module`` (in place) into a persistent buffer of the same name and value.

    Returns, for each parameter name of ``module.named_parameters()`` (duplicates of a shared parameter removed),
    the (submodule, attribute) sites that now hold it as a buffer. A parameter shared by several submodules stays
    one tensor shared by every site.
    """
    first_name: Dict[int, str] = {}
    for name, param in module.named_parameters():
        first_name.setdefault(id(param), name)
    sites: Dict[str, List[Tuple[nn.Module, str]]] = {name: [] for name in first_name.values()}
    converted: Dict[int, torch.Tensor] = {}
    for submodule in module.modules():
        for attr, param in list(submodule._parameters.items()):
            if param is None:
                continue
            tensor = converted.setdefault(id(param), param.detach().requires_grad_(False))
            del submodule._parameters[attr]
            submodule.register_buffer(attr, tensor, persistent=True)
            sites[first_name[id(param)]].append((submodule, attr))
    return sites


class MomentumCopy(nn.Module):
    """A frozen copy of a module that follows it by exponential moving average (EMA).

    The copy's parameters are stored as persistent *buffers*: they are in ``state_dict()`` (saved in checkpoints and
    restored by ``load_state_dict``) and move with ``.to(device)``, but they are not in ``parameters()``, so no
    optimizer built from the model (``mmcv.runner.build_optimizer`` and its ``paramwise_cfg`` included) ever sees
    them, and DDP does not reduce gradients for them.

    :meth:`update` applies ``p_m = momentum * p_m + (1 - momentum) * p`` to every parameter, and copies the buffers
    of the online module (e.g. BatchNorm running statistics). Calling the copy runs the copied module.

    Args:
        module (nn.Module): the online module; it is deep-copied, never modified.
        momentum (float): EMA factor in [0, 1); 0.995 keeps an average over roughly the last 200 updates.

    Shapes:
        forward: whatever ``module`` takes and returns.
    """

    def __init__(self, module: nn.Module, momentum: float = 0.995):
        super().__init__()
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'MomentumCopy momentum={momentum}: use a value in [0, 1), e.g. 0.995')
        self.momentum = momentum
        self.module = copy.deepcopy(module)
        self._param_sites = _parameters_to_buffers(self.module)
        self._buffer_names = [name for name, _ in module.named_buffers()]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _online_params(self, online: nn.Module) -> List[Tuple[str, torch.Tensor]]:
        params = list(online.named_parameters())
        names = [name for name, _ in params]
        if names != list(self._param_sites):
            raise ValueError(f'MomentumCopy.update: the online module has parameters {names[:5]}... but the copy was '
                             f'made of a module with {list(self._param_sites)[:5]}...; pass the module it was built '
                             'from')
        return params

    @torch.no_grad()
    def update(self, online: nn.Module, momentum: Optional[float] = None) -> None:
        """One EMA step towards ``online`` (the module the copy was made from).

        Args:
            online (nn.Module): the trained module.
            momentum (float, optional): overrides ``self.momentum`` for this step (0 copies ``online``).
        """
        m = self.momentum if momentum is None else float(momentum)
        targets, sources, extra = [], [], []
        for name, param in self._online_params(online):
            sites = self._param_sites[name]
            first_module, first_attr = sites[0]
            target = first_module._buffers[first_attr]
            targets.append(target)
            sources.append(param.detach().to(device=target.device, dtype=target.dtype))
            # a device move replaces buffers one by one: sites that shared a tensor may hold copies now
            extra.extend((module, attr, target) for module, attr in sites[1:]
                         if module._buffers[attr] is not target)
        if targets:
            if m == 0.0:
                torch._foreach_copy_(targets, sources)
            else:
                torch._foreach_mul_(targets, m)
                torch._foreach_add_(targets, sources, alpha=1.0 - m)
        for module, attr, target in extra:
            module._buffers[attr].copy_(target)
        online_buffers = dict(online.named_buffers())
        own_buffers = dict(self.module.named_buffers())
        for name in self._buffer_names:
            if name in online_buffers and name in own_buffers:
                own_buffers[name].copy_(online_buffers[name])

    @torch.no_grad()
    def copy_from(self, online: nn.Module) -> None:
        """Make the copy equal to ``online`` (parameters and buffers)."""
        self.update(online, momentum=0.0)

    def extra_repr(self) -> str:
        return f'momentum={self.momentum}'


class FeatureQueue(nn.Module):
    """A first-in-first-out queue of ``size`` feature vectors and their labels.

    New entries are written at the pointer, which advances and wraps around, so the oldest entries are overwritten
    first (also when ``size`` is not a multiple of the batch size). A batch larger than the queue keeps its last
    ``size`` rows. Empty slots have label -1 (:data:`EMPTY_LABEL`) and are left out by :meth:`filled`.
    :meth:`fill_random` fills every slot with a random unit vector labelled -100 (:data:`NEGATIVE_LABEL`): such
    slots are occupied, match no class, and so act as negatives until real entries overwrite them (how the
    original SkeletonCLIP++ / ALBEF code starts its queues). The features, labels and pointer are persistent
    buffers: a checkpoint saves the queue and resuming restores it.

    Args:
        size (int): number of slots.
        dim (int): feature width.

    Shapes:
        enqueue: feats [N, dim], labels [N]
        features: -> [size, dim] (slot order; empty slots are zero)
        labels: -> [size] (slot order; -1 for empty slots, -100 for random fillers)
        filled: -> ([K, dim], [K]) the occupied slots (fillers included), K <= size, slot order
        ordered: -> ([K, dim], [K]) the occupied slots, oldest first
    """

    def __init__(self, size: int, dim: int):
        super().__init__()
        if int(size) < 1 or int(dim) < 1:
            raise ValueError(f'FeatureQueue(size={size}, dim={dim}): both must be positive')
        self.size = int(size)
        self.dim = int(dim)
        self.register_buffer('feats', torch.zeros(self.size, self.dim))
        self.register_buffer('feat_labels', torch.full((self.size, ), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    def reset(self) -> None:
        """Empty the queue."""
        self.feats.zero_()
        self.feat_labels.fill_(EMPTY_LABEL)
        self.ptr.zero_()

    @torch.no_grad()
    def fill_random(self, generator: Optional[torch.Generator] = None) -> None:
        """Fill every slot with a random unit vector (normal, L2-normalised) labelled -100, pointer at 0."""
        feats = torch.randn(self.size, self.dim, generator=generator)
        self.feats.copy_(F.normalize(feats, dim=1))
        self.feat_labels.fill_(NEGATIVE_LABEL)
        self.ptr.zero_()

    @torch.no_grad()
    def enqueue(self, feats: torch.Tensor, labels: torch.Tensor) -> None:
        """Write ``feats`` [N, dim] and ``labels`` [N] (class indices >= 0) after the newest entries."""
        labels = labels.reshape(-1)
        if feats.dim() != 2 or feats.shape[1] != self.dim or feats.shape[0] != labels.shape[0]:
            raise ValueError(f'FeatureQueue.enqueue expects feats [N, {self.dim}] and labels [N], got '
                             f'{tuple(feats.shape)} and {tuple(labels.shape)}')
        if labels.numel() and int(labels.min()) < 0:
            raise ValueError('FeatureQueue.enqueue: labels must be >= 0 (-1 marks empty slots)')
        num = feats.shape[0]
        if num == 0:
            return
        if num > self.size:
            feats, labels = feats[-self.size:], labels[-self.size:]
            start = (int(self.ptr) + num - self.size) % self.size
            num = self.size
        else:
            start = int(self.ptr)
        slots = (start + torch.arange(num, device=self.feats.device)) % self.size
        self.feats[slots] = feats.detach().to(device=self.feats.device, dtype=self.feats.dtype)
        self.feat_labels[slots] = labels.to(device=self.feat_labels.device, dtype=torch.long)
        self.ptr.fill_((start + num) % self.size)

    def features(self) -> torch.Tensor:
        """All slots [size, dim], in slot order (empty slots are zero)."""
        return self.feats

    def labels(self) -> torch.Tensor:
        """The label of every slot [size], -1 for empty slots, -100 for random fillers."""
        return self.feat_labels

    def filled(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The occupied slots (fillers included) in slot order: features [K, dim] and labels [K]."""
        keep = self.feat_labels != EMPTY_LABEL
        return self.feats[keep], self.feat_labels[keep]

    def ordered(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The occupied slots from the oldest to the newest: features [K, dim] and labels [K]."""
        order = (int(self.ptr) + torch.arange(self.size, device=self.feats.device)) % self.size
        feats, labels = self.feats[order], self.feat_labels[order]
        keep = labels != EMPTY_LABEL
        return feats[keep], labels[keep]

    def __len__(self) -> int:
        """The number of occupied slots (fillers included)."""
        return int((self.feat_labels != EMPTY_LABEL).sum())

    def extra_repr(self) -> str:
        return f'size={self.size}, dim={self.dim}'


def distillation_targets(momentum_logits: torch.Tensor, label_targets: torch.Tensor, alpha: float) -> torch.Tensor:
    """ALBEF's distilled targets: ``alpha * softmax(momentum_logits) + (1 - alpha) * label_targets``.

    Args:
        momentum_logits (Tensor): [B, N] similarities of the momentum model divided by the temperature.
        label_targets (Tensor): [B, N] label-based targets, every row summing to 1.
        alpha (float): weight of the momentum model's distribution, in [0, 1].

    Returns:
        Tensor: [B, N] targets whose rows sum to 1.
    """
    if momentum_logits.shape != label_targets.shape:
        raise ValueError(f'distillation_targets: logits {tuple(momentum_logits.shape)} and targets '
                         f'{tuple(label_targets.shape)} differ in shape')
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f'distillation alpha={alpha}: use a value in [0, 1]')
    soft = F.softmax(momentum_logits.float(), dim=1)
    return float(alpha) * soft + (1.0 - float(alpha)) * label_targets.to(soft.dtype)
