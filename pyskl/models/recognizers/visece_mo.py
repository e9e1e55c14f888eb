"""RecognizerViseceMo: the contrastive recognizer with ALBEF-style momentum distillation and feature queues."""
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..builder import RECOGNIZERS
from ..common.distributed import all_gather_no_grad
from ..common.momentum import FeatureQueue, MomentumCopy
from ..losses.contrastive import SoftTargetContrastiveLoss
from ..losses.distillation import MomentumDistillationLoss
from .text_branch import TextEncoderSpec
from .visece import RecognizerVisece

# state_dict prefix of each momentum copy -> prefix of the online module it follows
MOMENTUM_PREFIXES = (('video_encoder_m.module.', 'video_encoder.'), ('vision_proj_m.module.', 'vision_proj.'),
                     ('text_encoder_m.module.', 'text_branch.text_encoder.'),
                     ('text_proj_m.module.', 'text_branch.text_proj.'))
MOMENTUM_STATE = ('video_encoder_m.', 'vision_proj_m.', 'text_encoder_m.', 'text_proj_m.', 'video_queue.',
                  'text_queue.', 'num_updates')
QUEUE_INITS = ('empty', 'random')


def _complete_momentum_state(module: 'RecognizerViseceMo', state_dict: Dict[str, Any], prefix: str, *args: Any) -> \
        None:
    """Load-time hook: a checkpoint without any momentum state (e.g. a RecognizerVisece one) starts the momentum
    copies from its online weights, with empty queues and the update count at 0, instead of reporting them missing."""
    if any(key.startswith(prefix + name) for key in state_dict for name in MOMENTUM_STATE):
        return
    own = module.state_dict()
    for momentum_prefix, online_prefix in MOMENTUM_PREFIXES:
        for key in own:
            if key.startswith(momentum_prefix):
                online_key = prefix + online_prefix + key[len(momentum_prefix):]
                if online_key in state_dict:
                    state_dict[prefix + key] = state_dict[online_key]
    for name in ('video_queue', 'text_queue'):
        queue = getattr(module, name)
        start = FeatureQueue(queue.size, queue.dim)
        if module.queue_init == 'random':
            start.fill_random()
        state_dict[f'{prefix}{name}.feats'] = start.feats.to(queue.feats)
        state_dict[f'{prefix}{name}.feat_labels'] = start.feat_labels.to(queue.feat_labels.device)
        state_dict[f'{prefix}{name}.ptr'] = start.ptr.to(queue.ptr.device)
    state_dict[prefix + 'num_updates'] = torch.zeros_like(module.num_updates)


@RECOGNIZERS.register_module()
class RecognizerViseceMo(RecognizerVisece):
    """:class:`RecognizerVisece` trained with momentum distillation (ALBEF's ITC with a momentum model).

    Momentum copies (:class:`MomentumCopy`) of the video encoder, ``vision_proj``, the text encoder and
    ``text_proj`` follow the online modules by EMA, ``p_m = momentum * p_m + (1 - momentum) * p``, once per training
    step (before the step's momentum features; at the very first step they are set equal to the online modules, so
    every rank of a distributed run starts from the same copy). Their weights are buffers: in ``state_dict`` (saved
    and restored with checkpoints) but never in ``parameters()``, so no optimizer or ``paramwise_cfg`` group sees
    them. With ``frozen_bert=True`` the text encoder does not change and the online one serves both roles.

    Each step, ``loss_cls`` (:class:`MomentumDistillationLoss`, whose docstring gives the formula) contrasts the
    online features of the clips and of their class sentences with the momentum ones and with the queues of
    earlier momentum features (:class:`FeatureQueue`, ``queue_size`` slots each, with labels; empty slots are left
    out), the targets mixing the momentum model's similarities (weight ``alpha``) with the same-label mask. Then
    the momentum features and the labels enter the queues; under DDP they are first gathered from every rank, so
    all ranks hold the same queues. ``alpha`` can ramp up linearly over the first ``alpha_warmup_iters`` steps
    (ALBEF ramps it over the first epoch). Outside train mode (e.g. a ``val`` workflow) the loss is computed
    without updating the copies or the queues. Testing uses the online model (:meth:`RecognizerVisece.forward_test`).

    ``queue_init='empty'`` (default) starts the queues empty: the first steps contrast with the batch only.
    ``'random'`` starts them full of random unit vectors labelled -100, negatives of every clip from the first step
    until real entries replace them, as the original SkeletonCLIP++ code (after ALBEF) does.

    A checkpoint without momentum state (e.g. a RecognizerVisece one given as ``load_from``) loads cleanly: the
    momentum copies start from its online weights, the queues as ``queue_init`` says.

    Args:
        video_encoder (dict | nn.Module), text_encoder (dict | nn.Module, optional): see :class:`RecognizerVisece`.
        momentum (float): EMA factor of the momentum copies, in [0, 1).
        queue_size (int): slots of each feature queue.
        alpha (float): weight of the momentum model's similarities in the targets, in [0, 1].
        alpha_warmup_iters (int): steps over which alpha ramps up from 0 (0: constant).
        queue_init (str): ``'empty'`` or ``'random'`` (random unit vectors labelled -100, the original code's).
        **kwargs: the other arguments of :class:`RecognizerVisece` (``embed_dim``, ``frozen_bert``,
            ``text_encoder_init``, ``text_lists``, ``num_classes``, ``max_length``, ``proj_mode``, ``embedder``,
            ``temp``, ``loss_cls``, ``tokenizer``, ``train_cfg``, ``test_cfg``). ``loss_cls`` defaults to
            ``dict(type='MomentumDistillationLoss')``; a ``SoftTargetContrastiveLoss`` config (as written for
            :class:`RecognizerVisece`) becomes a ``MomentumDistillationLoss`` with its ``loss_weight``.

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1]
        encode_video_momentum: [B, num_clips, C, T, H, W] -> [B * num_clips, embed_dim]
        encode_text_momentum: labels [N] -> [N, embed_dim]
        video_queue / text_queue: [queue_size, embed_dim] features, [queue_size] labels (-1: empty, -100: filler)
        forward_train output: dict(loss_cls=[], temp=[], alpha=[])
        forward_test output (ndarray): [B, L]
    """

    default_loss = dict(type='MomentumDistillationLoss')

    def __init__(self,
                 video_encoder: Union[Mapping[str, Any], nn.Module],
                 text_encoder: TextEncoderSpec = None,
                 momentum: float = 0.995,
                 queue_size: int = 4096,
                 alpha: float = 0.4,
                 alpha_warmup_iters: int = 0,
                 queue_init: str = 'empty',
                 **kwargs: Any):
        name = type(self).__name__
        if queue_init not in QUEUE_INITS:
            raise ValueError(f'{name} queue_init={queue_init!r}: use one of {QUEUE_INITS}')
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f'{name} momentum={momentum}: use a value in [0, 1), e.g. 0.995')
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f'{name} alpha={alpha}: use a value in [0, 1], e.g. 0.4')
        if int(queue_size) < 1:
            raise ValueError(f'{name} queue_size={queue_size}: use a positive number of slots, e.g. 4096')
        if int(alpha_warmup_iters) < 0:
            raise ValueError(f'{name} alpha_warmup_iters={alpha_warmup_iters}: use 0 (no ramp) or more')
        # plain attributes (nn.Module allows them before __init__), read by build_extra_modules and init_weights
        self.queue_init = queue_init
        self.momentum = float(momentum)
        self.queue_size = int(queue_size)
        self.alpha = float(alpha)
        self.alpha_warmup_iters = int(alpha_warmup_iters)
        super().__init__(video_encoder, text_encoder, **kwargs)

    def build_extra_modules(self) -> None:
        """The momentum copies, the two queues and the update count; ``loss_cls`` as a
        :class:`MomentumDistillationLoss`."""
        if isinstance(self.loss_cls, SoftTargetContrastiveLoss):  # configs written for RecognizerVisece
            if self.loss_cls.gather_distributed:
                raise ValueError(f'{type(self).__name__}: loss_cls gather_distributed=True does not apply (the '
                                 'queues hold the momentum features of every rank); drop it from loss_cls')
            self.loss_cls = MomentumDistillationLoss(loss_weight=self.loss_cls.loss_weight)
        elif not isinstance(self.loss_cls, MomentumDistillationLoss):
            raise TypeError(f'{type(self).__name__} loss_cls is a {type(self.loss_cls).__name__}; use '
                            "dict(type='MomentumDistillationLoss', loss_weight=...) (or leave loss_cls out)")
        self.video_encoder_m = MomentumCopy(self.video_encoder, self.momentum)
        self.vision_proj_m = MomentumCopy(self.vision_proj, self.momentum)
        self.text_encoder_m = None if self.text_branch.frozen_bert else MomentumCopy(self.text_encoder, self.momentum)
        self.text_proj_m = MomentumCopy(self.text_proj, self.momentum)
        self.video_queue = FeatureQueue(self.queue_size, self.embed_dim)
        self.text_queue = FeatureQueue(self.queue_size, self.embed_dim)
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        self.register_load_state_dict_pre_hook(_complete_momentum_state)

    # ------------------------------------------------------------------ momentum model

    def momentum_pairs(self) -> Iterator[Tuple[nn.Module, MomentumCopy]]:
        """(online module, its momentum copy) for every copied part."""
        yield self.video_encoder, self.video_encoder_m
        yield self.vision_proj, self.vision_proj_m
        if self.text_encoder_m is not None:
            yield self.text_encoder, self.text_encoder_m
        yield self.text_proj, self.text_proj_m

    @torch.no_grad()
    def momentum_update(self, momentum: Optional[float] = None) -> None:
        """One EMA step of every momentum copy towards its online module (``momentum=0`` copies them)."""
        for online, copy in self.momentum_pairs():
            copy.update(online, momentum)

    def init_weights(self) -> None:
        """Initialise the online model (see :class:`RecognizerVisece`), copy it into the momentum model and start
        the queues as ``queue_init`` says."""
        super().init_weights()
        self.momentum_update(0.0)
        for queue in (self.video_queue, self.text_queue):
            queue.fill_random() if self.queue_init == 'random' else queue.reset()
        self.num_updates.zero_()

    @torch.no_grad()
    def encode_video_momentum(self, imgs: torch.Tensor) -> torch.Tensor:
        """Momentum clip embeddings: imgs [B, num_clips, C, T, H, W] -> [B * num_clips, embed_dim] (normalised)."""
        return self.encode_video(imgs, self.video_encoder_m, self.vision_proj_m)

    @torch.no_grad()
    def encode_text_momentum(self, labels: torch.Tensor) -> torch.Tensor:
        """Momentum embeddings of the class sentences of ``labels`` [N] -> [N, embed_dim] (normalised)."""
        unique, inverse = torch.unique(self.text_branch.check_labels(labels), return_inverse=True)
        input_ids, attention_mask = self.text_branch.class_tokens(unique)
        encoder = self.text_encoder if self.text_encoder_m is None else self.text_encoder_m
        hidden = encoder(input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
        return F.normalize(self.text_proj_m(hidden), dim=-1)[inverse.to(hidden.device)]

    def current_alpha(self) -> float:
        """The distillation weight of the coming step (ramped over ``alpha_warmup_iters`` steps)."""
        if self.alpha_warmup_iters <= 0:
            return self.alpha
        return self.alpha * min(1.0, (int(self.num_updates) + 1) / self.alpha_warmup_iters)

    # ------------------------------------------------------------------ training

    def objective(self, imgs: torch.Tensor, frames: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The distilled ``loss_cls`` and ``alpha`` of a batch (arguments: see :meth:`RecognizerVisece.objective`);
        in train mode, the momentum step before and the queue update after."""
        video_feat = self.embed_video(frames)
        text_feat = self.text_branch.label_text_features(labels)
        alpha = self.current_alpha()
        with torch.no_grad():
            if self.training:
                # the first step aligns the copies with the (DDP-synchronised) online weights
                self.momentum_update(0.0 if int(self.num_updates) == 0 else None)
            video_feat_m = self.encode_video_momentum(imgs)
            text_feat_m = self.encode_text_momentum(labels)
        video_queue, video_queue_labels = self.video_queue.filled()
        text_queue, text_queue_labels = self.text_queue.filled()
        loss = self.loss_cls(video_feat, text_feat, video_feat_m, text_feat_m, labels, self.temp, alpha,
                             video_queue=video_queue, video_queue_labels=video_queue_labels, text_queue=text_queue,
                             text_queue_labels=text_queue_labels)
        if self.training:
            with torch.no_grad():
                all_labels = all_gather_no_grad(labels)
                self.video_queue.enqueue(all_gather_no_grad(video_feat_m), all_labels)
                self.text_queue.enqueue(all_gather_no_grad(text_feat_m), all_labels)
                self.num_updates += 1
        return dict(loss_cls=loss, alpha=torch.tensor(alpha, device=loss.device))

    def extra_repr(self) -> str:
        return (f'momentum={self.momentum}, queue_size={self.queue_size}, alpha={self.alpha}, '
                f'alpha_warmup_iters={self.alpha_warmup_iters}, queue_init={self.queue_init!r}')
