"""A BERT encoder whose layers can also cross-attend to another sequence (the video frames).

The module layout and parameter names follow Hugging Face's BERT (``embeddings.word_embeddings.weight``,
``encoder.layer.0.attention.self.query.weight``, ``encoder.layer.0.crossattention.self.query.weight``,
``encoder.layer.0.intermediate.dense.weight``, ``encoder.layer.0.output.LayerNorm.weight``, ...), so Hugging Face
BERT checkpoints load by name and the cross-attention weights are the only ones that start fresh.
"""
import copy
import math
from typing import Any, Mapping, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import BertConfig
from transformers.activations import ACT2FN
from transformers.modeling_outputs import BaseModelOutputWithPoolingAndCrossAttentions

from ..builder import BACKBONES

__all__ = ['BertModel', 'to_bert_config']

MODES = ('text', 'multimodal')


def to_bert_config(config: Union[BertConfig, Mapping[str, Any], None] = None, **overrides: Any) -> BertConfig:
    """Turn a config dict (plain ``dict`` or mmcv ``ConfigDict``) or a ``BertConfig`` into a ``BertConfig``.

    Keys that ``BertConfig`` does not know (``encoder_width``) are kept as attributes. ``overrides`` whose value is
    not ``None`` replace the corresponding entries. A ``BertConfig`` given in is copied, never modified.

    Args:
        config (BertConfig | dict | None): the architecture; ``None`` means ``BertConfig()``'s defaults
            (bert-base: hidden 768, 12 layers, 12 heads).
        **overrides: entries to set, e.g. ``vocab_size=30524``.

    Returns:
        BertConfig: a new config with ``encoder_width`` (default: ``hidden_size``) and ``add_cross_attention``
        (default: False) always set.
    """
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if isinstance(config, BertConfig):
        bert_config = copy.deepcopy(config)
        for key, value in overrides.items():
            setattr(bert_config, key, value)
        values = {'add_cross_attention': getattr(config, 'add_cross_attention', False),
                  'encoder_width': getattr(config, 'encoder_width', None), **overrides}
    elif config is None or isinstance(config, Mapping):
        values = {key: value for key, value in dict(config or {}).items() if key != 'type'}
        values.update(overrides)
        bert_config = BertConfig(**{key: value for key, value in values.items()
                                    if key not in ('add_cross_attention', 'encoder_width')})
    else:
        raise TypeError(f'a text encoder config must be a BertConfig or a dict, got {type(config).__name__}')
    # Set the extra keys explicitly: they must survive whatever BertConfig does with unknown kwargs.
    bert_config.add_cross_attention = bool(values.get('add_cross_attention') or False)
    bert_config.encoder_width = int(values.get('encoder_width') or bert_config.hidden_size)
    return bert_config


def _additive_mask(mask: Optional[Tensor], batch: int, length: int, device: torch.device) -> Optional[Tensor]:
    """Turn a keep-mask ``[B, L]`` (1 = attend, 0 = padding) into an additive mask ``[B, 1, 1, L]`` (float32).

    Masked positions get the most negative float32 value; attention casts it to its own dtype. No mask: None.
    """
    if mask is None:
        return None
    if mask.dim() != 2 or mask.shape != (batch, length):
        raise ValueError(f'attention mask must have shape [B, L] = [{batch}, {length}], got {list(mask.shape)}')
    keep = mask.to(device=device, dtype=torch.bool)[:, None, None, :]
    return torch.zeros(keep.shape, device=device).masked_fill(~keep, torch.finfo(torch.float32).min)


class BertEmbeddings(nn.Module):
    """Word + absolute position (+ token type) embeddings, then LayerNorm and dropout.

    ``config.type_vocab_size == 0`` builds no token-type table (the BLIP layout).
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        if config.type_vocab_size > 0:
            self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        else:
            self.token_type_embeddings = None
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Older Hugging Face and BLIP checkpoints store the constant ``position_ids`` buffer; it carries nothing.
        state_dict.pop(prefix + 'position_ids', None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, input_ids: Tensor, token_type_ids: Optional[Tensor] = None) -> Tensor:
        """input_ids, token_type_ids: [B, L] -> [B, L, hidden]."""
        length = input_ids.shape[1]
        if length > self.position_embeddings.num_embeddings:
            raise ValueError(f'text of {length} tokens is longer than max_position_embeddings='
                             f'{self.position_embeddings.num_embeddings}; truncate it when tokenizing')
        positions = torch.arange(length, device=input_ids.device)
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
        if self.token_type_embeddings is not None:
            if token_type_ids is None:
                embeddings = embeddings + self.token_type_embeddings.weight[0]
            else:
                embeddings = embeddings + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention; keys and values come from ``context`` (``key_width`` wide)."""

    def __init__(self, config: BertConfig, key_width: int) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f'hidden_size {config.hidden_size} is not a multiple of '
                             f'num_attention_heads {config.num_attention_heads}')
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(key_width, config.hidden_size)
        self.value = nn.Linear(key_width, config.hidden_size)
        self.dropout_prob = config.attention_probs_dropout_prob

    def _split_heads(self, x: Tensor) -> Tensor:
        """[B, L, hidden] -> [B, heads, L, head_dim]."""
        return x.view(x.shape[0], x.shape[1], self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, hidden_states: Tensor, context: Tensor, additive_mask: Optional[Tensor]) -> Tensor:
        """hidden_states [B, L, hidden], context [B, N, key_width], additive_mask [B, 1, 1, N] or None (attend to
        all) -> [B, L, hidden]."""
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(context))
        value = self._split_heads(self.value(context))
        if additive_mask is not None and additive_mask.dtype != query.dtype:
            low = torch.finfo(query.dtype).min
            additive_mask = additive_mask.clamp(min=low).to(query.dtype)
        out = F.scaled_dot_product_attention(
            query, key, value, attn_mask=additive_mask, dropout_p=self.dropout_prob if self.training else 0.0,
            scale=1.0 / math.sqrt(self.head_dim))
        return out.transpose(1, 2).reshape(hidden_states.shape[0], hidden_states.shape[1], -1)


class BertSelfOutput(nn.Module):
    """Projection of the attention result, dropout, residual and LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, attended: Tensor, residual: Tensor) -> Tensor:
        """attended, residual: [B, L, hidden] -> [B, L, hidden]."""
        return self.LayerNorm(self.dropout(self.dense(attended)) + residual)


class BertAttention(nn.Module):
    """Self-attention (``key_width == hidden_size``, context = the text) or cross-attention (context = video)."""

    def __init__(self, config: BertConfig, key_width: int) -> None:
        super().__init__()
        self.self = BertSelfAttention(config, key_width)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states: Tensor, context: Tensor, additive_mask: Optional[Tensor]) -> Tensor:
        """hidden_states [B, L, hidden], context [B, N, key_width], additive_mask [B, 1, 1, N] or None (attend to
        all) -> [B, L, hidden]."""
        return self.output(self.self(hidden_states, context, additive_mask), hidden_states)


class BertIntermediate(nn.Module):
    """The feed-forward expansion: Linear hidden -> intermediate, then the activation."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        act = config.hidden_act
        self.intermediate_act_fn = ACT2FN[act] if isinstance(act, str) else act

    def forward(self, hidden_states: Tensor) -> Tensor:
        """[B, L, hidden] -> [B, L, intermediate]."""
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    """The feed-forward contraction: Linear intermediate -> hidden, dropout, residual and LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, expanded: Tensor, residual: Tensor) -> Tensor:
        """expanded [B, L, intermediate], residual [B, L, hidden] -> [B, L, hidden]."""
        return self.LayerNorm(self.dropout(self.dense(expanded)) + residual)


class BertLayer(nn.Module):
    """Self-attention, optional cross-attention to ``encoder_width``-wide states, then the feed-forward block."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config, config.hidden_size)
        if config.add_cross_attention:
            self.crossattention = BertAttention(config, config.encoder_width)
        else:
            self.crossattention = None
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self,
                hidden_states: Tensor,
                self_mask: Optional[Tensor],
                encoder_hidden_states: Optional[Tensor] = None,
                encoder_mask: Optional[Tensor] = None) -> Tensor:
        """hidden_states [B, L, hidden], self_mask [B, 1, 1, L]; cross-attends when ``encoder_hidden_states``
        ([B, N, encoder_width], with encoder_mask [B, 1, 1, N]) is given. Returns [B, L, hidden]."""
        hidden_states = self.attention(hidden_states, hidden_states, self_mask)
        if encoder_hidden_states is not None:
            hidden_states = self.crossattention(hidden_states, encoder_hidden_states, encoder_mask)
        return self.output(self.intermediate(hidden_states), hidden_states)


class BertEncoder(nn.Module):
    """A stack of ``num_hidden_layers`` :class:`BertLayer`."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self,
                hidden_states: Tensor,
                self_mask: Optional[Tensor],
                encoder_hidden_states: Optional[Tensor] = None,
                encoder_mask: Optional[Tensor] = None) -> Tensor:
        """Shapes as in :meth:`BertLayer.forward`."""
        for layer in self.layer:
            hidden_states = layer(hidden_states, self_mask, encoder_hidden_states, encoder_mask)
        return hidden_states


class BertPooler(nn.Module):
    """BERT's pooler: Linear + tanh over the first token."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: Tensor) -> Tensor:
        """[B, L, hidden] -> [B, hidden]."""
        return self.activation(self.dense(hidden_states[:, 0]))


@BACKBONES.register_module()
class BertModel(nn.Module):
    """Bidirectional BERT encoder whose layers can also cross-attend to another sequence.

    With ``config.add_cross_attention`` every layer gets a cross-attention block after its self-attention, whose keys
    and values are projected from ``config.encoder_width``-wide states (e.g. per-frame video features).

    ``mode='text'``: plain BERT (self-attention only; cross-attention blocks are skipped even when they exist and
    ``encoder_hidden_states`` is ignored). ``mode='multimodal'``: every layer also cross-attends to
    ``encoder_hidden_states``.

    The constructor initialises weights randomly (normal(0, initializer_range) for Linear and Embedding weights, zero
    biases, unit LayerNorms). Pretrained BERT weights load with :func:`pyskl.models.text.build_text_encoder`
    (``pretrained.py``, which builds on this module; this module imports nothing of it).

    Args:
        config (BertConfig | dict): the architecture, e.g. ``dict(hidden_size=768, num_hidden_layers=12,
            num_attention_heads=12, intermediate_size=3072, vocab_size=30524, encoder_width=768,
            add_cross_attention=True, ...)``; an mmcv ``ConfigDict`` works too. Keys missing from a dict take
            ``BertConfig``'s defaults (bert-base); ``encoder_width`` defaults to ``hidden_size``. Only absolute
            position embeddings are supported.
        add_pooling_layer (bool): also build BERT's pooler (Linear + tanh on the first token), returned as
            ``pooler_output``. Default: False.

    Attributes:
        config (BertConfig): the architecture actually built.
        hidden_size (int): width of the text features (``last_hidden_state.shape[-1]``).
    """

    def __init__(self, config: Union[BertConfig, Mapping[str, Any]], add_pooling_layer: bool = False) -> None:
        super().__init__()
        config = to_bert_config(config)
        position_type = getattr(config, 'position_embedding_type', 'absolute') or 'absolute'
        if position_type != 'absolute':
            raise NotImplementedError(f'position_embedding_type={position_type!r} is not supported; only absolute')
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.init_weights()

    @property
    def hidden_size(self) -> int:
        """Width of the text features."""
        return self.config.hidden_size

    @property
    def has_cross_attention(self) -> bool:
        """Whether the layers carry cross-attention blocks (needed by ``mode='multimodal'``)."""
        return bool(self.config.add_cross_attention)

    def _init_module(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def init_weights(self, module: Optional[nn.Module] = None) -> None:
        """(Re-)initialise ``module`` (default: the whole model) the way BERT does."""
        (module if module is not None else self).apply(self._init_module)

    def get_input_embeddings(self) -> nn.Embedding:
        """The word embedding table ``[vocab_size, hidden]``."""
        return self.embeddings.word_embeddings

    def forward(self,
                input_ids: Tensor,
                attention_mask: Optional[Tensor] = None,
                token_type_ids: Optional[Tensor] = None,
                encoder_hidden_states: Optional[Tensor] = None,
                encoder_attention_mask: Optional[Tensor] = None,
                mode: str = 'text',
                return_dict: bool = True) -> BaseModelOutputWithPoolingAndCrossAttentions:
        """Encode token ids, optionally cross-attending to other features.

        Args:
            input_ids (Tensor): [B, L] token ids.
            attention_mask (Tensor, optional): [B, L], 1 for tokens, 0 for padding. Default: all ones.
            token_type_ids (Tensor, optional): [B, L]. Default: all zeros.
            encoder_hidden_states (Tensor, optional): [B, N, encoder_width], e.g. per-frame video features
                [B, T, C]. Required by ``mode='multimodal'``, ignored by ``mode='text'``.
            encoder_attention_mask (Tensor, optional): [B, N], 1 for valid entries. Default: all ones.
            mode (str): ``'text'`` or ``'multimodal'``.
            return_dict (bool): accepted for compatibility with BLIP-style callers; the output is always the
                model-output object.

        Returns:
            BaseModelOutputWithPoolingAndCrossAttentions: ``last_hidden_state`` [B, L, hidden]; ``pooler_output``
            [B, hidden] when built with ``add_pooling_layer=True``, else None. The text feature is
            ``last_hidden_state[:, 0]`` (the ``[CLS]`` or ``[ENC]`` position).
        """
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if input_ids.dim() != 2:
            raise ValueError(f'input_ids must have shape [B, L], got {list(input_ids.shape)}')
        batch, length = input_ids.shape
        device = input_ids.device
        self_mask = _additive_mask(attention_mask, batch, length, device)
        encoder_mask = None
        if mode == 'multimodal':
            if not self.has_cross_attention:
                raise ValueError("mode='multimodal' needs cross-attention layers: build the text encoder with "
                                 'config add_cross_attention=True')
            if encoder_hidden_states is None:
                raise ValueError("mode='multimodal' needs encoder_hidden_states [B, N, encoder_width]")
            if (encoder_hidden_states.dim() != 3 or encoder_hidden_states.shape[0] != batch
                    or encoder_hidden_states.shape[2] != self.config.encoder_width):
                raise ValueError(f'encoder_hidden_states must have shape [B={batch}, N, encoder_width='
                                 f'{self.config.encoder_width}], got {list(encoder_hidden_states.shape)}')
            encoder_mask = _additive_mask(encoder_attention_mask, batch, encoder_hidden_states.shape[1], device)
        else:
            encoder_hidden_states = None

        hidden_states = self.embeddings(input_ids, token_type_ids)
        hidden_states = self.encoder(hidden_states, self_mask, encoder_hidden_states, encoder_mask)
        pooled = self.pooler(hidden_states) if self.pooler is not None else None
        return BaseModelOutputWithPoolingAndCrossAttentions(last_hidden_state=hidden_states, pooler_output=pooled)
