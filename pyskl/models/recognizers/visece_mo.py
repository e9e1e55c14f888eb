"""RecognizerViseceMo: the contrastive recognizer with ALBEF-style momentum distillation and feature queues."""
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..builder import RECOGNIZERS
from ..common.momentum import FeatureQueue, MomentumCopy, distillation_targets
from ..losses.contrastive import SoftTargetContrastiveLoss, all_gather_no_grad, soft_target_cross_entropy
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

    Each step, with ``v``/``t`` the online normalised features of the clips and of their class sentences and
    ``v_m``/``t_m`` the momentum ones (all [N, D]), and the queues of earlier momentum features
    (:class:`FeatureQueue`, ``queue_size`` slots each, with labels; empty slots are left out)::

        text_cols = [t_m; text queue]      video_cols = [v_m; video queue]
        logits_v2t = v @ text_cols.T / temp            logits_t2v = t @ video_cols.T / temp
        targets_v2t = alpha * softmax(v_m @ text_cols.T / temp) + (1 - alpha) * same_label(labels, text_cols)
        targets_t2v = alpha * softmax(t_m @ video_cols.T / temp) + (1 - alpha) * same_label(labels, video_cols)
        loss_cls = (CE(logits_v2t, targets_v2t) + CE(logits_t2v, targets_t2v)) / 2 * loss_weight

    where ``same_label`` is the mask of the columns with the row's label (queued entries included), each row
    normalised to sum 1. Then ``v_m``, ``t_m`` and the labels enter the queues; under DDP they are first gathered
    from every rank, so all ranks hold the same queues. ``alpha`` can ramp up linearly over the first
    ``alpha_warmup_iters`` steps (ALBEF ramps it over the first epoch). Outside train mode (e.g. a ``val``
    workflow) the loss is computed without updating the copies or the queues. Testing uses the online model
    (:meth:`RecognizerVisece.forward_test`).

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
            ``temp``, ``loss_cls`` (its ``loss_weight`` applies), ``tokenizer``, ``train_cfg``, ``test_cfg``).

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1]
        encode_video_momentum: [B, num_clips, C, T, H, W] -> [B * num_clips, embed_dim]
        encode_text_momentum: labels [N] -> [N, embed_dim]
        video_queue / text_queue: [queue_size, embed_dim] features, [queue_size] labels (-1: empty, -100: filler)
        forward_train output: dict(loss_cls=[], temp=[], alpha=[])
        forward_test output (ndarray): [B, L]
    """

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
        self.queue_init = queue_init  # a plain attribute: nn.Module allows it before __init__
        super().__init__(video_encoder, text_encoder, **kwargs)
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f'{name} momentum={momentum}: use a value in [0, 1), e.g. 0.995')
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f'{name} alpha={alpha}: use a value in [0, 1], e.g. 0.4')
        if int(queue_size) < 1:
            raise ValueError(f'{name} queue_size={queue_size}: use a positive number of slots, e.g. 4096')
        if int(alpha_warmup_iters) < 0:
            raise ValueError(f'{name} alpha_warmup_iters={alpha_warmup_iters}: use 0 (no ramp) or more')
        if getattr(self.loss_cls, 'gather_distributed', False):
            raise ValueError(f'{name}: loss_cls gather_distributed=True does not apply (the queues hold the momentum '
                             'features of every rank); drop it from loss_cls')
        self.momentum = float(momentum)
        self.queue_size = int(queue_size)
        self.alpha = float(alpha)
        self.alpha_warmup_iters = int(alpha_warmup_iters)

        self.video_encoder_m = MomentumCopy(self.video_encoder, self.momentum)
        self.vision_proj_m = MomentumCopy(self.vision_proj, self.momentum)
        self.text_encoder_m = None if self.text_branch.frozen_bert else MomentumCopy(self.text_encoder, self.momentum)
        self.text_proj_m = MomentumCopy(self.text_proj, self.momentum)
        self.video_queue = FeatureQueue(self.queue_size, self.embed_dim)
        self.text_queue = FeatureQueue(self.queue_size, self.embed_dim)
        if self.queue_init == 'random':
            self.video_queue.fill_random()
            self.text_queue.fill_random()
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
        if hasattr(self, 'num_updates'):  # not yet during RecognizerVisece.__init__
            self.momentum_update(0.0)
            for queue in (self.video_queue, self.text_queue):
                queue.fill_random() if self.queue_init == 'random' else queue.reset()
            self.num_updates.zero_()

    @torch.no_grad()
    def encode_video_momentum(self, imgs: torch.Tensor) -> torch.Tensor:
        """Momentum clip embeddings: imgs [B, num_clips, C, T, H, W] -> [B * num_clips, embed_dim] (normalised)."""
        self._check_imgs(imgs)
        feat = self.video_encoder_m(imgs.reshape((-1, ) + tuple(imgs.shape[2:])))
        if feat.dim() == 5:  # [N, C, T', H', W'] from a plain 3D backbone
            feat = feat.mean(dim=(3, 4)).transpose(1, 2)
        if self.proj_mode == 'frame':
            feat = self.vision_proj_m(feat).mean(dim=1)
        else:
            feat = self.vision_proj_m(feat.mean(dim=1))
        return F.normalize(feat, dim=-1)

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

    @staticmethod
    def _columns(batch_feat: torch.Tensor, labels: torch.Tensor, queue: FeatureQueue) -> \
            Tuple[torch.Tensor, torch.Tensor]:
        """[batch momentum features; filled queue slots] and their labels: [N + K, D], [N + K]."""
        queued, queued_labels = queue.filled()
        feats = torch.cat([batch_feat, queued.to(device=batch_feat.device, dtype=batch_feat.dtype)])
        return feats, torch.cat([labels, queued_labels.to(labels.device)])

    def forward_train(self, imgs: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> Dict[str, torch.Tensor]:
        """imgs [B, num_clips, C, T, H, W], label [B] -> dict(loss_cls, temp, alpha)."""
        self._check_imgs(imgs)
        batch, num_clips = imgs.shape[:2]
        labels = self._clip_labels(label, batch, num_clips)
        self.clamp_temp()
        video_feat = self.encode_video(imgs)
        labels = labels.to(video_feat.device)
        text_feat = self.text_branch.label_text_features(labels)
        alpha = self.current_alpha()

        with torch.no_grad():
            if self.training:
                # the first step aligns the copies with the (DDP-synchronised) online weights
                self.momentum_update(0.0 if int(self.num_updates) == 0 else None)
            video_feat_m = self.encode_video_momentum(imgs)
            text_feat_m = self.encode_text_momentum(labels)
            text_cols, text_col_labels = self._columns(text_feat_m, labels, self.text_queue)
            video_cols, video_col_labels = self._columns(video_feat_m, labels, self.video_queue)
            temp = self.temp.detach()
            dtype = torch.promote_types(video_feat.dtype, torch.float32)
            targets_v2t = distillation_targets(
                video_feat_m @ text_cols.t() / temp,
                SoftTargetContrastiveLoss.get_targets(labels, text_col_labels, dtype), alpha)
            targets_t2v = distillation_targets(
                text_feat_m @ video_cols.t() / temp,
                SoftTargetContrastiveLoss.get_targets(labels, video_col_labels, dtype), alpha)

        logits_v2t = video_feat @ text_cols.t().to(video_feat.dtype) / self.temp
        logits_t2v = text_feat @ video_cols.t().to(text_feat.dtype) / self.temp
        loss = (soft_target_cross_entropy(logits_v2t, targets_v2t) +
                soft_target_cross_entropy(logits_t2v, targets_t2v)) / 2
        loss = loss * getattr(self.loss_cls, 'loss_weight', 1.0)

        if self.training:
            with torch.no_grad():
                all_labels = all_gather_no_grad(labels)
                self.video_queue.enqueue(all_gather_no_grad(video_feat_m), all_labels)
                self.text_queue.enqueue(all_gather_no_grad(text_feat_m), all_labels)
                self.num_updates += 1
        return dict(loss_cls=loss, temp=self.temp.detach().clone(),
                    alpha=torch.tensor(alpha, device=loss.device))

    def extra_repr(self) -> str:
        return (f'momentum={self.momentum}, queue_size={self.queue_size}, alpha={self.alpha}, '
                f'alpha_warmup_iters={self.alpha_warmup_iters}, queue_init={self.queue_init!r}')
