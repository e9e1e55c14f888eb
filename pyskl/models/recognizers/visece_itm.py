"""RecognizerViseceITM: the contrastive recognizer plus video-text matching with hard negatives."""
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch.nn.utils import skip_init

from ..builder import RECOGNIZERS, build_loss
from ..common.init import init_linear_layers
from ..losses.itm import HardNegativeSampler
from .text_branch import TextEncoderSpec
from .visece import RecognizerVisece


@RECOGNIZERS.register_module()
class RecognizerViseceITM(RecognizerVisece):
    """:class:`RecognizerVisece` (contrastive ``loss_cls``) plus an image-text-matching loss ``loss_itm``.

    Matching: the text encoder reads a sentence whose first token is ``[ENC]`` and cross-attends
    (``mode='multimodal'``) to the per-frame features of a clip (the video encoder's output, [T', C] with C the
    text encoder's ``encoder_width``); ``itm_head`` (Linear itm_dim -> 2) classifies the output at the first
    position as (no match, match). Each batch of B clips gives 3B pairs:

    - B positives: (clip i, sentence of label i);
    - B negatives (clip j, sentence of label i): for each sentence a clip of another class;
    - B negatives (clip i, sentence of label j): for each clip a sentence of another class;

    the negatives drawn by :class:`HardNegativeSampler` with probability softmax(v @ t.T / temp) over the
    other-class entries of the batch (detached). ``loss_itm`` is the cross entropy of the 3B pairs
    (:class:`ITMLoss`), and ``acc_itm`` their accuracy. A batch whose clips all share one label has no negative:
    the matching pass is skipped, ``loss_itm`` is a zero tensor (whose graph reaches ``itm_head``) and
    ``acc_itm`` is zero. Deciding this reads one flag from the device per batch; the sampling itself runs
    without host synchronisation.

    Testing is the contrastive scoring of :class:`RecognizerVisece` (softmax over classes of the cosine
    similarities, averaged over clips).

    With ``frozen_bert=True`` the whole text encoder (its cross-attention included) keeps its weights and stays in
    eval mode; the matching loss still trains ``itm_head`` and, through the cross-attention, the video encoder.

    Args:
        video_encoder (dict | nn.Module): e.g. ``dict(type='Visece_Video', output_channels=768, ...)``: per-frame
            features [N, T', C] with C equal to the text encoder's ``encoder_width``.
        text_encoder (dict | nn.Module, optional): a BERT with cross-attention, e.g. ``dict(type='BertModel',
            config=dict(add_cross_attention=True, encoder_width=768, ...))``.
        itm_dim (int, optional): input width of ``itm_head``; must equal the text encoder's hidden size, which is
            the default (the seed writes 768 for bert-base).
        loss_itm (dict, optional): the matching loss; default ``dict(type='ITMLoss')``.
        **kwargs: the other arguments of :class:`RecognizerVisece` (``embed_dim``, ``frozen_bert``,
            ``text_encoder_init``, ``text_lists``, ``num_classes``, ``max_length``, ``proj_mode``, ``embedder``,
            ``temp``, ``loss_cls``, ``tokenizer``, ``train_cfg``, ``test_cfg``).

    Shapes:
        imgs (Tensor): [B, num_clips, C, T, H, W]
        label (Tensor): [B] or [B, 1]
        matching_logits: frames [P, T', C], input_ids / attention_mask [P, M] -> [P, 2]
        forward_train output: dict(loss_cls=[], loss_itm=[], acc_itm=[], temp=[])
        forward_test output (ndarray): [B, L]
    """

    def __init__(self,
                 video_encoder: Union[Mapping[str, Any], nn.Module],
                 text_encoder: TextEncoderSpec = None,
                 itm_dim: Optional[int] = None,
                 loss_itm: Optional[Dict[str, Any]] = None,
                 embed_dim: int = 256,
                 frozen_bert: bool = False,
                 text_encoder_init: Optional[str] = 'bert-base-uncased',
                 text_lists: Union[str, Sequence[str]] = 'lists/ntu60.csv',
                 **kwargs: Any):
        # read by build_extra_modules, which the template calls once the text and video encoders exist
        self._itm_options = dict(itm_dim=itm_dim, loss_itm=loss_itm, text_encoder_init=text_encoder_init)
        super().__init__(video_encoder=video_encoder, text_encoder=text_encoder, embed_dim=embed_dim,
                         frozen_bert=frozen_bert, text_encoder_init=text_encoder_init, text_lists=text_lists,
                         **kwargs)

    def build_extra_modules(self) -> None:
        """Check that the text encoder can cross-attend to the video features; build ``itm_head`` and the loss."""
        name = type(self).__name__
        options = self.__dict__.pop('_itm_options')
        config = getattr(self.text_encoder, 'config', None)
        if not getattr(self.text_encoder, 'has_cross_attention', False):
            raise ValueError(f'{name} needs a text encoder with cross-attention layers: give text_encoder='
                             "dict(type='BertModel', config=dict(add_cross_attention=True, encoder_width="
                             f'{self.video_channels}))')
        encoder_width = getattr(config, 'encoder_width', None)
        if encoder_width != self.video_channels:
            raise ValueError(f'{name}: the text encoder cross-attends to {encoder_width}-wide features but the video '
                             f'encoder {type(self.video_encoder).__name__} gives {self.video_channels} channels per '
                             f'frame; set the text encoder config encoder_width={self.video_channels} (or the video '
                             f'encoder output_channels={encoder_width})')
        hidden = int(self.text_encoder.hidden_size)
        itm_dim = options['itm_dim']
        if itm_dim is not None and int(itm_dim) != hidden:
            raise ValueError(f"{name}: itm_dim={itm_dim} but the text encoder (text_encoder_init="
                             f"{options['text_encoder_init']!r}) has hidden size {hidden}; set itm_dim={hidden} or "
                             'leave it None')
        self.itm_dim = hidden
        self.itm_head = skip_init(nn.Linear, hidden, 2)  # init_weights draws its weights
        self.hard_negatives = HardNegativeSampler()
        loss_itm = options['loss_itm']
        self.loss_itm = build_loss(dict(type='ITMLoss') if loss_itm is None else loss_itm)

    def init_weights(self) -> None:
        """Initialise what :meth:`RecognizerVisece.init_weights` does, then the ITM head: PyTorch's Linear init,
        redrawn from normal(0, in_features**-0.5) with ``proj_init='normal'`` (both draws, in this order, so a
        seed gives the weights it always gave)."""
        super().init_weights()
        self.itm_head.reset_parameters()
        if self.proj_init == 'normal':
            init_linear_layers(self.itm_head)

    def matching_logits(self, frames: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> \
            torch.Tensor:
        """Match scores (no match, match) of (clip, sentence) pairs: frames [P, T', C], ids / mask [P, M] -> [P, 2].

        The first token of every sentence is replaced by ``[ENC]``. A frozen text encoder passes gradients to
        the frames (its own weights have none).
        """
        input_ids = self.tokenizer.replace_first_with_enc(input_ids)
        hidden = self.text_encoder(input_ids, attention_mask=attention_mask, encoder_hidden_states=frames,
                                   mode='multimodal').last_hidden_state
        return self.itm_head(hidden[:, 0])

    def _zero_itm(self, device: torch.device) -> Dict[str, torch.Tensor]:
        zero = sum(param.sum() for param in self.itm_head.parameters()) * 0.0
        return dict(loss_itm=zero.to(device), acc_itm=torch.zeros((), device=device))

    def itm_losses(self, frames: torch.Tensor, video_feat: torch.Tensor, text_feat: torch.Tensor,
                   labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_itm`` and ``acc_itm`` of a batch.

        Args:
            frames (Tensor): [B, T', C] per-frame video features (the cross-attention input).
            video_feat (Tensor): [B, D] normalised clip embeddings.
            text_feat (Tensor): [B, D] normalised embeddings of each clip's class sentence.
            labels (Tensor): [B] class of each clip.
        """
        labels = labels.to(frames.device)
        if not bool((labels != labels[0]).any()):
            return self._zero_itm(frames.device)
        batch = frames.shape[0]
        with torch.no_grad():
            similarity = video_feat @ text_feat.t() / self.temp  # [B videos, B sentences]
        neg_text, valid_text = self.hard_negatives(similarity, labels, labels)  # a sentence for every clip
        neg_video, valid_video = self.hard_negatives(similarity.t(), labels, labels)  # a clip for every sentence
        input_ids, attention_mask = self.text_branch.class_tokens(labels)
        input_ids, attention_mask = input_ids.to(frames.device), attention_mask.to(frames.device)
        all_frames = torch.cat([frames, frames[neg_video], frames])
        all_ids = torch.cat([input_ids, input_ids, input_ids[neg_text]])
        all_mask = torch.cat([attention_mask, attention_mask, attention_mask[neg_text]])
        logits = self.matching_logits(all_frames, all_ids, all_mask)
        targets = self.loss_itm.get_labels(batch, 2 * batch, device=frames.device)
        weight = torch.cat([torch.ones_like(valid_video), valid_video, valid_text])
        loss, accuracy = self.loss_itm(logits, targets, weight)
        return dict(loss_itm=loss, acc_itm=accuracy)

    def objective(self, imgs: torch.Tensor, frames: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_cls`` (contrastive), ``loss_itm`` and ``acc_itm`` of a batch (arguments: see
        :meth:`RecognizerVisece.objective`)."""
        video_feat = self.embed_video(frames)
        text_feat = self.text_branch.label_text_features(labels)
        losses = dict(loss_cls=self.loss_cls(video_feat, text_feat, labels, self.temp))
        losses.update(self.itm_losses(frames, video_feat, text_feat, labels))
        return losses
