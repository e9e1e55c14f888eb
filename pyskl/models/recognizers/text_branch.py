"""The text branch shared by the text-supervised recognizers: class sentences, tokenizer, BERT, projection."""
import os
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...utils.class_lists import check_class_list, load_class_list
from ..common.init import init_linear_layers
from ..text import MINILM_ALIASES, BertModel, build_text_encoder, build_tokenizer

TextEncoderSpec = Union[Mapping[str, Any], nn.Module, None]
TOKENIZER_FILES = ('vocab.txt', 'tokenizer.json')


def _default_tokenizer_name(text_encoder_init: Optional[str]) -> str:
    """The tokenizer that goes with the text encoder weights: their own vocabulary when they carry one."""
    if text_encoder_init is None:
        return 'bert-base-uncased'
    name = os.fspath(text_encoder_init)
    if name.lower() in MINILM_ALIASES:
        return 'minilm'
    folder = os.path.expanduser(name)
    if os.path.isdir(folder) and any(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES):
        return folder
    return 'bert-base-uncased'


def _text_encoder_args(spec: Mapping[str, Any]) -> Dict[str, Any]:
    """Read a ``dict(type='BertModel', config=dict(...), add_pooling_layer=False)`` model config."""
    spec = dict(spec)
    kind = spec.pop('type', 'BertModel')
    if kind not in ('BertModel', BertModel):
        raise ValueError(f"text_encoder type {kind!r} is not supported; use dict(type='BertModel', config=...)")
    config = spec.pop('config', None)
    add_pooling_layer = bool(spec.pop('add_pooling_layer', False))
    if spec:
        raise TypeError(f'text_encoder: unknown keys {sorted(spec)}; expected type, config and add_pooling_layer')
    return dict(config=config, add_pooling_layer=add_pooling_layer)


def _param_state_key(module: nn.Module) -> Tuple:
    """Identifies the current values of ``module``'s parameters: any in-place change (optimizer step, copy_ in
    load_state_dict) bumps a version counter; a move to another device or dtype changes the storage."""
    return tuple((id(p), p.data_ptr(), p._version, p.device, p.dtype) for p in module.parameters())


def _clear_cache_after_load(module: 'ClassTextBranch', incompatible_keys: Any) -> None:
    module.clear_cache()


class ClassTextBranch(nn.Module):
    """Class sentences, their tokenizer, a BERT text encoder and the projection to the joint embedding.

    The class sentences are read from ``text_lists`` and tokenized once here; the token ids live in
    non-persistent buffers (they follow ``.to(device)`` but are not in the state_dict). A sentence's feature is
    ``normalize(text_proj(BERT(ids)[:, 0]))``, the projected ``[CLS]`` output.

    :meth:`class_text_features` (all L sentences) is cached in eval mode: computed once per evaluation pass and
    reused by every batch; it is recomputed as soon as a parameter of the text encoder or ``text_proj`` changes
    (optimizer step, ``load_state_dict``, a device or dtype move), and dropped when the branch enters train mode.
    In train mode it is computed with gradients every call.

    ``frozen_bert=True`` stops the text encoder's gradients and keeps it in eval mode (no dropout) through every
    ``.train()`` call; ``text_proj`` still trains.

    Parameter names contain ``text_encoder`` (``<prefix>.text_encoder.embeddings...``), so a config can set its
    learning rate with ``paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.01)})``.

    Args:
        text_lists (str | Sequence[str]): class list CSV (``id,name``; relative paths are tried against the
            current directory, then the repository root) or the class sentences themselves.
        embed_dim (int): width of the joint embedding.
        text_encoder (dict | nn.Module | None): ``dict(type='BertModel', config=dict(...),
            add_pooling_layer=False)``; its config gives the model options (``add_cross_attention``,
            ``encoder_width``, dropout) and, without weights, the sizes. None: the weights' own config. A built
            :class:`BertModel` is used as it is.
        text_encoder_init (str | None): the weights: ``'minilm'`` (packaged all-MiniLM-L6-v2),
            ``'bert-base-uncased'`` (Hugging Face cache, or the hub when online), a local folder, or None (random).
        tokenizer (str, optional): tokenizer name or folder; default: the vocabulary of ``text_encoder_init``
            when it has one, else ``'bert-base-uncased'`` (offline: the identical packaged vocabulary).
        frozen_bert (bool): freeze the text encoder (no gradients, always in eval mode).
        num_classes (int, optional): when given, the class list must have exactly this many sentences.
        max_length (int): tokens per sentence, ``[CLS]`` and ``[SEP]`` included.

    Shapes:
        class_input_ids, class_attention_mask (buffers): [L, max_length]
        encode_text: input_ids [N, M], attention_mask [N, M] -> [N, embed_dim]
        label_text_features: labels [B] -> [B, embed_dim]
        class_text_features: -> [L, embed_dim]
    """

    def __init__(self,
                 text_lists: Union[str, Sequence[str]],
                 embed_dim: int = 256,
                 text_encoder: TextEncoderSpec = None,
                 text_encoder_init: Optional[str] = 'bert-base-uncased',
                 tokenizer: Optional[str] = None,
                 frozen_bert: bool = False,
                 num_classes: Optional[int] = None,
                 max_length: int = 10):
        super().__init__()
        self.text_lists = os.fspath(text_lists) if isinstance(text_lists, (str, os.PathLike)) else '<list of names>'
        self.class_names = load_class_list(text_lists)
        if num_classes is not None:
            check_class_list(self.class_names, int(num_classes), source=str(self.text_lists))
        self.embed_dim = int(embed_dim)
        self.max_length = int(max_length)
        self.frozen_bert = bool(frozen_bert)

        self.tokenizer = build_tokenizer(tokenizer or _default_tokenizer_name(text_encoder_init))
        if isinstance(text_encoder, nn.Module):
            self.text_encoder = text_encoder
        else:
            args = _text_encoder_args(text_encoder) if text_encoder is not None else dict(config=None)
            self.text_encoder = build_text_encoder(text_encoder_init=text_encoder_init,
                                                   vocab_size=len(self.tokenizer), **args)
        hidden = getattr(self.text_encoder, 'hidden_size', None)
        if not isinstance(hidden, int):
            raise TypeError(f'the text encoder {type(self.text_encoder).__name__} has no integer `hidden_size`')
        self.text_proj = nn.Linear(hidden, self.embed_dim)

        tokens = self.tokenizer.tokenize_sentences(self.class_names, max_length=self.max_length)
        self.register_buffer('class_input_ids', tokens['input_ids'], persistent=False)
        self.register_buffer('class_attention_mask', tokens['attention_mask'], persistent=False)

        self._cache: Optional[torch.Tensor] = None
        self._cache_key: Optional[Tuple] = None
        self.register_load_state_dict_post_hook(_clear_cache_after_load)
        if self.frozen_bert:
            for param in self.text_encoder.parameters():
                param.requires_grad = False
            self.text_encoder.eval()
        self.init_weights()

    @property
    def num_sentences(self) -> int:
        """L, the number of class sentences."""
        return len(self.class_names)

    def init_weights(self) -> None:
        """Initialise ``text_proj``; the (pretrained) text encoder is left as it is."""
        init_linear_layers(self.text_proj)
        self.clear_cache()

    def train(self, mode: bool = True) -> 'ClassTextBranch':
        """Switch the mode; a frozen text encoder stays in eval mode. Entering train mode drops the cache."""
        super().train(mode)
        if self.frozen_bert:
            self.text_encoder.eval()
        if mode:
            self.clear_cache()
        return self

    def clear_cache(self) -> None:
        """Forget the cached class sentence features."""
        self._cache = None
        self._cache_key = None

    def check_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Labels [B] or [B, 1] -> [B] int64, each a row of the class list (else a ValueError naming it)."""
        labels = torch.as_tensor(labels)
        if labels.dim() == 2 and labels.shape[1] == 1:
            labels = labels.reshape(-1)
        if labels.dim() == 0:
            labels = labels.reshape(1)
        if labels.dim() != 1 or labels.dtype.is_floating_point:
            raise ValueError(f'labels must be class indices of shape [B] or [B, 1], got {labels.dtype} of shape '
                             f'{tuple(labels.shape)}')
        labels = labels.long()
        bad = labels[(labels < 0) | (labels >= self.num_sentences)]
        if bad.numel():
            raise ValueError(f'label {int(bad[0])} has no sentence in the class list {self.text_lists}, which has '
                             f'{self.num_sentences} classes (labels 0..{self.num_sentences - 1}); use the list '
                             'of the dataset')
        return labels

    def class_tokens(self, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The tokenized sentence of each label: labels [B] -> input_ids, attention_mask [B, max_length]."""
        labels = self.check_labels(labels).to(self.class_input_ids.device)
        return self.class_input_ids[labels], self.class_attention_mask[labels]

    def text_hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs: Any) -> \
            torch.Tensor:
        """Text encoder output [N, M, hidden] (no gradient when frozen); ``kwargs`` go to the encoder
        (``mode='multimodal'``, ``encoder_hidden_states``, ``encoder_attention_mask``)."""
        if self.frozen_bert:
            with torch.no_grad():
                return self.text_encoder(input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        return self.text_encoder(input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, normalize: bool = True) -> \
            torch.Tensor:
        """Token ids [N, M] and mask [N, M] -> projected ``[CLS]`` features [N, embed_dim] (L2-normalised)."""
        feat = self.text_proj(self.text_hidden_states(input_ids, attention_mask)[:, 0])
        return F.normalize(feat, dim=-1) if normalize else feat

    def label_text_features(self, labels: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """Features of each sample's class sentence, with gradients: labels [B] -> [B, embed_dim].

        Every distinct label is encoded once and the rows are repeated.
        """
        labels = self.check_labels(labels).to(self.class_input_ids.device)
        unique, inverse = torch.unique(labels, return_inverse=True)
        feat = self.encode_text(self.class_input_ids[unique], self.class_attention_mask[unique], normalize)
        return feat[inverse]

    def class_text_features(self) -> torch.Tensor:
        """Features of all L class sentences, [L, embed_dim] (L2-normalised).

        In eval mode the result is computed without gradients and cached until the weights change; in train
        mode it is computed with gradients at every call.
        """
        if self.training:
            self.clear_cache()
            return self.encode_text(self.class_input_ids, self.class_attention_mask)
        key = _param_state_key(self.text_encoder) + _param_state_key(self.text_proj)
        if self._cache is None or self._cache_key != key:
            with torch.no_grad():
                self._cache = self.encode_text(self.class_input_ids, self.class_attention_mask)
            self._cache_key = key
        return self._cache

    def extra_repr(self) -> str:
        return (f'text_lists={self.text_lists!r}, sentences={self.num_sentences}, embed_dim={self.embed_dim}, '
                f'max_length={self.max_length}, frozen_bert={self.frozen_bert}')
