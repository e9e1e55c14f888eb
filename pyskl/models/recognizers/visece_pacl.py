"""RecognizerVisecePACL: every class sentence pools the frames of a clip that resemble it (PACL-style)."""
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn

from ..builder import RECOGNIZERS
from ..common.alignment import FrameTextAlignment
from .text_branch import TextEncoderSpec
from .visece import RecognizerVisece

TRAIN_MODES = ('all_class', 'pairwise')


@RECOGNIZERS.register_module()
class RecognizerVisecePACL(RecognizerVisece):
    """Frame-to-sentence aligned recognizer on per-frame features (e.g. ``Visece_Video_PACL``).

    The embedder ``vision_proj`` (by default the residual MLP: Linear-GELU-Linear plus a Linear shortcut) maps the
    per-frame features [N, T', C] to frame embeddings [N, T', D]. :class:`FrameTextAlignment` (``alignment``)
    pools them into one video feature per class sentence, weighting each frame by its cosine similarity to the
    sentence (``weight_fn``: softmax over the frames or sigmoid(10 x cosine); ``weight_on``: the raw or the
    normalised frame embeddings), and scores the pooled feature against the sentence.

    Training (``train_mode``):

    - ``'all_class'`` (default, the seed's best): every clip is scored against all L class sentences;
      ``loss_cls`` is the cross entropy over the classes of ``score / temp`` with the clip's class as target;
    - ``'pairwise'``: each clip is pooled for its own class sentence only, and the pooled features go into the
      soft-target contrastive loss against the batch's sentences (``SoftTargetContrastiveLoss``).

    Testing: scores [N, L] = per-class cosine scores; ``average_clip`` ('prob') takes the softmax over the classes
    and averages the clips -> [B, L]. ``test_cfg feat_ext=True`` returns the clip-averaged, normalised mean of the
    frame embeddings [B, D].

    Args:
        video_encoder (dict | nn.Module): e.g. ``dict(type='Visece_Video_PACL', res_out_channels=512, ...)``.
        text_encoder (dict | nn.Module, optional): BERT config (cross-attention is not used).
        weight_fn (str): ``'softmax'`` or ``'sigmoid'``.
        weight_on (str): ``'raw'`` or ``'normalized'``.
        train_mode (str): ``'all_class'`` or ``'pairwise'``.
        embedder (str): ``'mlp'`` (residual MLP with GELU, default), ``'mlp_relu'`` (with ReLU, the original
            code's) or ``'linear'`` (the original's best run).
        loss_cls (dict, optional): default ``dict(type='CrossEntropyLoss')`` for ``'all_class'`` and
            ``dict(type='SoftTargetContrastiveLoss')`` for ``'pairwise'``.
        **kwargs: the other arguments of :class:`RecognizerVisece` (``embed_dim``, ``frozen_bert``,
            ``text_encoder_init``, ``text_lists``, ``num_classes``, ``max_length``, ``temp``, ``tokenizer``,
            ``train_cfg``, ``test_cfg``).

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1]
        frame_embeddings: [B, num_clips, C, T, H, W] -> [B * num_clips, T', D]
        class_scores: frames [N, T', D] -> [N, L]
        forward_train output: dict(loss_cls=[], temp=[])
        forward_test output (ndarray): [B, L]
    """

    def __init__(self,
                 video_encoder: Union[Mapping[str, Any], nn.Module],
                 text_encoder: TextEncoderSpec = None,
                 weight_fn: str = 'softmax',
                 weight_on: str = 'raw',
                 train_mode: str = 'all_class',
                 embedder: str = 'mlp',
                 loss_cls: Optional[Dict[str, Any]] = None,
                 embed_dim: int = 256,
                 frozen_bert: bool = False,
                 text_encoder_init: Optional[str] = 'bert-base-uncased',
                 text_lists: Union[str, Sequence[str]] = 'lists/ntu60.csv',
                 **kwargs: Any):
        if train_mode not in TRAIN_MODES:
            raise ValueError(f'{type(self).__name__} train_mode={train_mode!r}: use one of {TRAIN_MODES}')
        if 'proj_mode' in kwargs:
            raise TypeError(f'{type(self).__name__} embeds every frame and pools them per sentence; it takes no '
                            'proj_mode')
        if loss_cls is None:
            loss_cls = dict(type='CrossEntropyLoss' if train_mode == 'all_class' else 'SoftTargetContrastiveLoss')
        self.train_mode = train_mode  # a plain attribute, set before the template builds the modules
        self._alignment_options = dict(weight_fn=weight_fn, weight_on=weight_on)
        super().__init__(video_encoder=video_encoder, text_encoder=text_encoder, embed_dim=embed_dim,
                         frozen_bert=frozen_bert, text_encoder_init=text_encoder_init, text_lists=text_lists,
                         embedder=embedder, loss_cls=loss_cls, **kwargs)

    def build_extra_modules(self) -> None:
        """The per-sentence frame pooling (no parameters)."""
        self.alignment = FrameTextAlignment(**self.__dict__.pop('_alignment_options'))

    def frame_embeddings(self, imgs: torch.Tensor, chunk: Optional[int] = None) -> torch.Tensor:
        """imgs [B, num_clips, C, T, H, W] -> embedded frames [B * num_clips, T', embed_dim] (not normalised)."""
        return self.vision_proj(self.video_frame_features(imgs, chunk))

    def class_scores(self, frames: torch.Tensor, text_feat: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Aligned cosine score of every clip with every class sentence: [N, T', D] -> [N, L]."""
        if text_feat is None:
            text_feat = self.text_branch.class_text_features()
        return self.alignment(frames, text_feat)

    def objective(self, imgs: torch.Tensor, frames: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_cls`` of a batch as ``train_mode`` says (arguments: see :meth:`RecognizerVisece.objective`)."""
        frames = self.vision_proj(frames)
        if self.train_mode == 'all_class':
            logits = self.class_scores(frames, self.text_branch.class_text_features()) / self.temp
            return dict(loss_cls=self.loss_cls(logits, labels))
        text_feat = self.text_branch.label_text_features(labels)
        video_feat = self.alignment.pool_pairs(frames, text_feat)
        return dict(loss_cls=self.loss_cls(video_feat, text_feat, labels, self.temp))

    def clip_scores(self, frames: torch.Tensor) -> torch.Tensor:
        """Test scores: per-frame features [N, T', C] -> aligned cosine scores [N, L] (see :meth:`class_scores`)."""
        return self.class_scores(self.vision_proj(frames))

    def extra_repr(self) -> str:
        return f'train_mode={self.train_mode!r}'
