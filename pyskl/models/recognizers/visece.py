"""RecognizerVisece: skeleton clips and class sentences embedded together, trained with a contrastive loss."""
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..builder import RECOGNIZERS, build_backbone, build_loss
from ..cnns.resnet3d import ResNet3d
from ..cnns.visece_video import resnet_out_channels
from ..common.init import init_linear_layers
from .base import BaseRecognizer
from .text_branch import ClassTextBranch, TextEncoderSpec
from .zero_shot import ClassSubsetScoring

PROJ_MODES = ('frame', 'pool')
EMBEDDERS = ('linear', 'mlp', 'mlp_relu')
PROJ_INITS = ('normal', 'pytorch')
TEMP_MIN, TEMP_MAX = 0.001, 0.5

__all__ = ['RecognizerVisece', 'ResidualMLPEmbedder', 'build_embedder', 'init_linear_layers', 'video_encoder_channels']


class ResidualMLPEmbedder(nn.Module):
    """Residual MLP: ``fc2(act(fc1(x))) + shortcut(x)``, applied to the last axis (``act``: GELU, or ReLU as in the
    original SkeletonCLIP++ PACL embedder).

    Args:
        in_channels (int): input width.
        out_channels (int): output width.
        hidden_channels (int, optional): width of the hidden layer; default ``out_channels``.
        act (str): ``'gelu'`` or ``'relu'``.

    Shapes:
        x (Tensor): [..., in_channels] -> [..., out_channels]
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: Optional[int] = None,
                 act: str = 'gelu'):
        super().__init__()
        if act not in ('gelu', 'relu'):
            raise ValueError(f"ResidualMLPEmbedder act={act!r}: use 'gelu' or 'relu'")
        hidden_channels = hidden_channels or out_channels
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.act = nn.GELU() if act == 'gelu' else nn.ReLU()
        self.fc2 = nn.Linear(hidden_channels, out_channels)
        self.shortcut = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x))) + self.shortcut(x)


def build_embedder(kind: str, in_channels: int, out_channels: int) -> nn.Module:
    """``'linear'``: ``nn.Linear``; ``'mlp'`` / ``'mlp_relu'``: :class:`ResidualMLPEmbedder` with GELU / ReLU (the
    same parameter names)."""
    if kind == 'linear':
        return nn.Linear(in_channels, out_channels)
    if kind in ('mlp', 'mlp_relu'):
        return ResidualMLPEmbedder(in_channels, out_channels, act='gelu' if kind == 'mlp' else 'relu')
    raise ValueError(f'embedder={kind!r}: use one of {EMBEDDERS}')


def video_encoder_channels(encoder: nn.Module) -> int:
    """Width of the per-frame features of a video encoder (``out_channels``, or a ResNet3d's output stage)."""
    channels = getattr(encoder, 'out_channels', None)
    if isinstance(channels, int):
        return channels
    if isinstance(encoder, ResNet3d):
        return resnet_out_channels(encoder)
    raise TypeError(f'cannot tell the feature width of the video encoder {type(encoder).__name__}: give it an '
                    "integer `out_channels` attribute, or use dict(type='Visece_Video', ...)")


@RECOGNIZERS.register_module()
class RecognizerVisece(ClassSubsetScoring, BaseRecognizer):
    """Video-text contrastive recognizer: a clip is classified by the closest class sentence.

    Video: ``video_encoder`` gives per-frame features [N, T', C]; ``vision_proj`` maps them to ``embed_dim``
    (per frame then mean over T' with ``proj_mode='frame'``, or mean over T' then projection with ``'pool'``);
    the result is L2-normalised. Text: the projected ``[CLS]`` feature of the class sentence (see
    :class:`ClassTextBranch`, held as ``text_branch``). Training minimises the soft-target contrastive loss
    ``loss_cls`` between the clips and their class sentences with a learnable temperature ``temp`` (clamped to
    [0.001, 0.5] at every training forward, logged as ``temp``). Testing scores every clip against every class
    sentence: ``softmax(v @ t.T)`` over the classes, averaged over the clips (``test_cfg average_clips='prob'``,
    the default; ``'score'`` averages the cosine similarities). The sentence features are computed once per
    evaluation pass.

    The template of the text recognizers (:class:`RecognizerViseceITM`, :class:`RecognizerViseceMo`,
    :class:`RecognizerVisecePACL`): it owns the input checks, the per-clip labels, the temperature clamp, the video
    embedding (:meth:`encode_video` takes the encoder and projection, so a momentum copy reuses it) and the order
    *build everything, then initialise once*. A subclass supplies what differs:

    - ``build_extra_modules()``: its own modules, built after the shared ones and before the single
      :meth:`init_weights` call (its options are set as plain attributes before ``super().__init__``); a module
      built here draws no random numbers (``torch.nn.utils.skip_init``): :meth:`init_weights` draws them;
    - ``init_weights()``: ``super().init_weights()`` plus its own modules;
    - ``objective(imgs, frames, labels)``: the training losses (the template adds ``temp``);
    - ``clip_scores(frames)``: the per-clip class scores of testing, if not the cosine similarities.

    Parameter names: ``video_encoder.*``, ``vision_proj.*``, ``text_branch.text_encoder.*``,
    ``text_branch.text_proj.*``, ``temp``, so ``paramwise_cfg=dict(custom_keys={'text_encoder':
    dict(lr_mult=0.01)})`` sets the text encoder's learning rate.

    Args:
        video_encoder (dict | nn.Module): e.g. ``dict(type='Visece_Video', in_channels=17, ...)``; any encoder
            giving [N, T', C] (or [N, C, T', H', W'], averaged over space) with an ``out_channels`` attribute.
        text_encoder (dict | nn.Module, optional): ``dict(type='BertModel', config=dict(...),
            add_pooling_layer=False)``; with pretrained weights they fix the sizes. None: the weights' config.
        embed_dim (int): width of the joint embedding.
        frozen_bert (bool): freeze the text encoder (no gradients, kept in eval mode).
        text_encoder_init (str | None): ``'bert-base-uncased'`` (Hugging Face cache or hub), ``'minilm'``
            (packaged), a folder, or None (random weights).
        text_lists (str | Sequence[str]): class list CSV or the class sentences.
        num_classes (int, optional): checked against the number of sentences.
        max_length (int): tokens per class sentence.
        proj_mode (str): ``'frame'`` (project every frame, then average) or ``'pool'`` (average, then project).
        embedder (str): ``'linear'``, ``'mlp'`` (residual MLP with GELU) or ``'mlp_relu'`` (with ReLU) for
            ``vision_proj``.
        proj_init (str): ``'normal'`` (default): ``vision_proj`` and ``text_proj`` (and an ITM head) start from
            normal(0, in_features**-0.5) with zero bias; ``'pytorch'``: PyTorch's default Linear init, as the
            original SkeletonCLIP++ code.
        temp (float): initial temperature.
        loss_cls (dict, optional): the contrastive loss; default ``dict(type='SoftTargetContrastiveLoss')``.
        tokenizer (str, optional): tokenizer name or folder (default: the one of ``text_encoder_init``).
        train_cfg (dict, optional), test_cfg (dict, optional): see :class:`BaseRecognizer`; ``test_cfg`` also takes
            ``class_subset`` (class ids scored at test time, for zero-shot evaluation).

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1] class indices
        encode_video: [B, num_clips, C, T, H, W] -> [B * num_clips, embed_dim]
        objective: imgs, frames [N, T', C_video], labels [N] (N = B * num_clips) -> dict of [] losses
        clip_scores: frames [N, T', C_video] -> [N, L]
        forward_train output: dict(loss_cls=[], temp=[])
        forward_test output (ndarray): [B, L] (L class sentences; rows sum to 1 with 'prob')
    """

    default_loss: Dict[str, Any] = dict(type='SoftTargetContrastiveLoss')  # loss_cls when the config gives none

    def __init__(self,
                 video_encoder: Union[Mapping[str, Any], nn.Module],
                 text_encoder: TextEncoderSpec = None,
                 embed_dim: int = 256,
                 frozen_bert: bool = False,
                 text_encoder_init: Optional[str] = 'bert-base-uncased',
                 text_lists: Union[str, Sequence[str]] = 'lists/ntu60.csv',
                 num_classes: Optional[int] = None,
                 max_length: int = 10,
                 proj_mode: str = 'frame',
                 embedder: str = 'linear',
                 proj_init: str = 'normal',
                 temp: float = 0.07,
                 loss_cls: Optional[Dict[str, Any]] = None,
                 tokenizer: Optional[str] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None):
        super().__init__(backbone=None, train_cfg=train_cfg, test_cfg=test_cfg)
        if proj_mode not in PROJ_MODES:
            raise ValueError(f'{type(self).__name__} proj_mode={proj_mode!r}: use one of {PROJ_MODES}')
        if embedder not in EMBEDDERS:
            raise ValueError(f'{type(self).__name__} embedder={embedder!r}: use one of {EMBEDDERS}')
        if proj_init not in PROJ_INITS:
            raise ValueError(f'{type(self).__name__} proj_init={proj_init!r}: use one of {PROJ_INITS}')
        if not TEMP_MIN <= float(temp) <= TEMP_MAX:
            raise ValueError(f'{type(self).__name__} temp={temp}: use a value in [{TEMP_MIN}, {TEMP_MAX}]')
        self.proj_mode = proj_mode
        self.proj_init = proj_init
        self.embed_dim = int(embed_dim)
        self.temp_init = float(temp)

        self.video_encoder = video_encoder if isinstance(video_encoder, nn.Module) else build_backbone(video_encoder)
        self.video_channels = video_encoder_channels(self.video_encoder)
        self.text_branch = ClassTextBranch(
            text_lists=text_lists, embed_dim=embed_dim, text_encoder=text_encoder,
            text_encoder_init=text_encoder_init, tokenizer=tokenizer, frozen_bert=frozen_bert,
            num_classes=num_classes, max_length=max_length)
        self.vision_proj = build_embedder(embedder, self.video_channels, self.embed_dim)
        if proj_init == 'pytorch':  # the text branch drew text_proj from its own init: back to PyTorch's
            self.text_branch.text_proj.reset_parameters()
        self.temp = nn.Parameter(torch.tensor(self.temp_init))
        self.loss_cls = build_loss(dict(self.default_loss) if loss_cls is None else loss_cls)
        self.build_extra_modules()
        self.init_weights()

    def build_extra_modules(self) -> None:
        """Build the modules a subclass adds (none here); called once, before :meth:`init_weights`."""

    @property
    def num_classes(self) -> int:
        """Number of class sentences (the width of the test scores)."""
        return self.text_branch.num_sentences

    @property
    def tokenizer(self):
        """The text tokenizer (:class:`pyskl.models.text.TextTokenizer`)."""
        return self.text_branch.tokenizer

    @property
    def text_encoder(self) -> nn.Module:
        """The BERT text encoder."""
        return self.text_branch.text_encoder

    @property
    def text_proj(self) -> nn.Module:
        """The Linear from the text width to ``embed_dim``."""
        return self.text_branch.text_proj

    def init_weights(self) -> None:
        """Initialise the video encoder (loading its ``pretrained`` checkpoint), ``vision_proj``, ``text_proj``
        (with ``proj_init='pytorch'`` the projections keep their PyTorch init) and the temperature; the pretrained
        text encoder is not touched."""
        if hasattr(self.video_encoder, 'init_weights'):
            self.video_encoder.init_weights()
        if self.proj_init == 'normal':
            init_linear_layers(self.vision_proj)
            self.text_branch.init_weights()
        else:
            self.text_branch.clear_cache()
        with torch.no_grad():
            self.temp.fill_(self.temp_init)

    def clamp_temp(self) -> None:
        """Keep the temperature in [0.001, 0.5] (in place, without gradient)."""
        with torch.no_grad():
            self.temp.clamp_(TEMP_MIN, TEMP_MAX)

    def _check_labels(self, label: torch.Tensor) -> torch.Tensor:
        """Labels [B] / [B, 1] -> [B] class indices, each a row of the class list."""
        return self.text_branch.check_labels(label)

    def extract_feat(self, imgs: torch.Tensor, encoder: Optional[nn.Module] = None) -> torch.Tensor:
        """Per-frame video features: clips [N, C, T, H, W] -> [N, T', C_video], from ``encoder`` (default: the
        video encoder; e.g. its momentum copy)."""
        encoder = self.video_encoder if encoder is None else encoder
        feat = encoder(imgs)
        if feat.dim() == 5:  # [N, C, T', H', W'] from a plain 3D backbone
            feat = feat.mean(dim=(3, 4)).transpose(1, 2)
        if feat.dim() != 3:
            raise ValueError(f'the video encoder {type(self.video_encoder).__name__} returned shape '
                             f'{tuple(feat.shape)}; expected per-frame features [N, T, C]')
        return feat

    def video_frame_features(self, imgs: torch.Tensor, chunk: Optional[int] = None,
                             encoder: Optional[nn.Module] = None) -> torch.Tensor:
        """imgs [B, num_clips, C, T, H, W] -> per-frame features [B * num_clips, T', C_video]; ``chunk`` clips
        go through the encoder at a time (all at once when None)."""
        self._check_imgs(imgs)
        flat = imgs.reshape((-1, ) + tuple(imgs.shape[2:]))
        if chunk is None:
            return self.extract_feat(flat, encoder)
        return torch.cat([self.extract_feat(flat[i:i + chunk], encoder) for i in range(0, flat.shape[0], chunk)])

    def embed_video(self, frames: torch.Tensor, normalize: bool = True, proj: Optional[nn.Module] = None) -> \
            torch.Tensor:
        """Per-frame features [N, T', C_video] -> clip embeddings [N, embed_dim] (L2-normalised), through ``proj``
        (default: ``vision_proj``) as ``proj_mode`` says."""
        proj = self.vision_proj if proj is None else proj
        if self.proj_mode == 'frame':
            feat = proj(frames).mean(dim=1)
        else:
            feat = proj(frames.mean(dim=1))
        return F.normalize(feat, dim=-1) if normalize else feat

    def encode_video(self, imgs: torch.Tensor, encoder: Optional[nn.Module] = None,
                     proj: Optional[nn.Module] = None) -> torch.Tensor:
        """imgs [B, num_clips, C, T, H, W] -> normalised clip embeddings [B * num_clips, embed_dim], through
        ``encoder`` and ``proj`` (default: the video encoder and ``vision_proj``)."""
        return self.embed_video(self.video_frame_features(imgs, encoder=encoder), proj=proj)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token ids [N, M] and mask [N, M] -> normalised sentence embeddings [N, embed_dim]."""
        return self.text_branch.encode_text(input_ids, attention_mask)

    def objective(self, imgs: torch.Tensor, frames: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The training losses of a checked batch: the contrastive ``loss_cls`` of the clips and their class
        sentences.

        Args:
            imgs (Tensor): [B, num_clips, C, T, H, W] the batch (for a subclass that runs other encoders on it).
            frames (Tensor): [B * num_clips, T', C_video] the per-frame features of the clips.
            labels (Tensor): [B * num_clips] the class of every clip, on the device of ``frames``.
        """
        video_feat = self.embed_video(frames)
        text_feat = self.text_branch.label_text_features(labels)
        return dict(loss_cls=self.loss_cls(video_feat, text_feat, labels, self.temp))

    def forward_train(self, imgs: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> Dict[str, torch.Tensor]:
        """imgs [B, num_clips, C, T, H, W], label [B] -> the losses of :meth:`objective` and ``temp``."""
        self._check_imgs(imgs)
        batch, num_clips = imgs.shape[:2]
        labels = self._clip_labels(label, batch, num_clips)
        self.clamp_temp()
        frames = self.video_frame_features(imgs)
        losses = self.objective(imgs, frames, labels.to(frames.device))
        losses['temp'] = self.temp.detach().clone()
        return losses

    def clip_scores(self, frames: torch.Tensor) -> torch.Tensor:
        """Test scores of every clip against every class sentence: per-frame features [N, T', C_video] -> [N, L]
        cosine similarities."""
        return self.embed_video(frames) @ self.text_branch.class_text_features().t()

    def forward_test(self, imgs: torch.Tensor, **kwargs: Any) -> np.ndarray:
        """imgs [B, num_clips, C, T, H, W] -> :meth:`clip_scores` averaged over the clips [B, L] (numpy); with
        ``test_cfg feat_ext=True`` the clip-averaged video embeddings [B, embed_dim]."""
        self._check_imgs(imgs)
        batch, num_clips = imgs.shape[:2]
        chunk = None if self.max_testing_views is None else int(self.max_testing_views)
        frames = self.video_frame_features(imgs, chunk)
        if self.feat_ext:
            return self.embed_video(frames).reshape(batch, num_clips, -1).mean(dim=1).detach().cpu().numpy()
        # average_clip('prob') takes the softmax over the classes, then the mean over the clips
        scores = self.average_clip(self.clip_scores(frames), num_clips)
        return scores.detach().cpu().numpy()
