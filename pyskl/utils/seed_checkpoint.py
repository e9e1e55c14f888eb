"""Checkpoints of the original SkeletonCLIP++ code: recognise them and convert them to this library's layout.

The original code (a pyskl fork) stores the same networks under other names. The mapping, original -> ours:

- ``text_encoder.*`` / ``text_proj.*`` (top level) -> ``text_branch.text_encoder.*`` / ``text_branch.text_proj.*``;
- its BERT (BLIP's layout) has no ``embeddings.token_type_embeddings``: ours adds ``token_type_embeddings[0]`` to
  every token, so the converter writes an all-zero table, and our outputs equal the original's; the constant
  ``embeddings.position_ids`` buffer it may store is dropped;
- PACL's residual embedder ``video_embed_linear.0`` / ``video_embed_linear.2`` / ``video_embed_res`` ->
  ``vision_proj.fc1`` / ``vision_proj.fc2`` / ``vision_proj.shortcut``;
- the momentum model's ``video_encoder_m.X`` (and ``vision_proj_m``, ``text_encoder_m``, ``text_proj_m``) ->
  ``<name>.module.X``;
- its queues: feature queues ``video_queue`` (or ``image_queue``) and ``text_queue`` of shape ``[D, Q]``, the label
  queue ``idx_queue [1, Q]`` (slots never written hold -100) and ``ptr_queue [1]`` -> our
  ``video_queue.feats [Q, D]``, ``.feat_labels [Q]``, ``.ptr []`` (and the same for ``text_queue``); a -100 slot
  stays -100, which our queues treat as the original does (a negative of every clip); ``num_updates`` is set to 1
  (the momentum copies exist already, so training from the converted file does not re-copy them);
- a video encoder stored without our inner ``resnet.`` level (``video_encoder.conv1.*``, ``video_encoder.layer1.*``)
  gets it; every other key (``video_encoder.*``, ``vision_proj.*``, ``itm_head.*``, ``temp``) keeps its name.

The mapping is a few renames that only this compatibility needs, so it is written here by hand.
"""
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

__all__ = ['RECOGNIZERS', 'SEED_TYPE_VOCAB_SIZE', 'is_seed_state_dict', 'detect_seed_recognizer',
           'seed_checkpoint_hint', 'convert_seed_state_dict']

RECOGNIZERS = ('visece', 'itm', 'mo', 'pacl')
SEED_TYPE_VOCAB_SIZE = 2  # rows of the zero token-type table written for our BertModel (BertConfig's default)
MOMENTUM_NAMES = ('video_encoder', 'vision_proj', 'text_encoder', 'text_proj')
VIDEO_QUEUE_NAMES = ('video_queue', 'image_queue')
PACL_RENAMES = (('video_embed_linear.0.', 'vision_proj.fc1.'), ('video_embed_linear.2.', 'vision_proj.fc2.'),
                ('video_embed_res.', 'vision_proj.shortcut.'))
TEXT_RENAMES = (('text_encoder.', 'text_branch.text_encoder.'), ('text_proj.', 'text_branch.text_proj.'))
RESNET_PART = re.compile(r'^(video_encoder(?:_m\.module)?)\.(conv1|layer\d+)\.')
CONVERTER = 'tools/convert_seed_checkpoint.py'


def _strip_wrapper(state_dict: Mapping[str, Any]) -> Dict[str, Any]:
    """Drop a ``module.`` prefix that every key carries (a DataParallel-wrapped model saved as it was)."""
    keys = list(state_dict)
    if keys and all(key.startswith('module.') for key in keys):
        return {key[len('module.'):]: value for key, value in state_dict.items()}
    return dict(state_dict)


def _seed_markers(state_dict: Mapping[str, Any]) -> List[str]:
    """The keys that only the original layout has."""
    markers = []
    for key in state_dict:
        if key.startswith(('text_encoder.', 'text_proj.', 'video_embed_linear.', 'video_embed_res.')):
            markers.append(key)
        elif key in ('idx_queue', 'ptr_queue', 'text_queue') + VIDEO_QUEUE_NAMES:
            markers.append(key)
        elif any(key.startswith(f'{name}_m.') and not key.startswith(f'{name}_m.module.') for name in MOMENTUM_NAMES):
            markers.append(key)
    return markers


def is_seed_state_dict(state_dict: Mapping[str, Any]) -> bool:
    """Whether ``state_dict`` has keys of the original code's layout (see the module docstring)."""
    return bool(_seed_markers(_strip_wrapper(state_dict)))


def detect_seed_recognizer(state_dict: Mapping[str, Any]) -> Optional[str]:
    """Which recognizer an original-layout state dict belongs to: ``'pacl'``, ``'mo'``, ``'itm'``, ``'visece'``, or
    None when it is not in the original layout. A PACL model with a linear embedder has the keys of a Visece one
    (and converts the same way): it is reported as ``'visece'``."""
    state_dict = _strip_wrapper(state_dict)
    if not _seed_markers(state_dict):
        return None
    keys = list(state_dict)
    if any(key.startswith(('video_embed_linear.', 'video_embed_res.')) for key in keys):
        return 'pacl'
    if 'idx_queue' in state_dict or any(key.startswith(f'{name}_m.') for key in keys for name in MOMENTUM_NAMES):
        return 'mo'
    if any(key.startswith('itm_head.') for key in keys):
        return 'itm'
    return 'visece'


def seed_checkpoint_hint(state_dict: Mapping[str, Any]) -> Optional[str]:
    """A sentence for a loading error when ``state_dict`` is a checkpoint of the original code, else None."""
    markers = _seed_markers(_strip_wrapper(state_dict))
    if not markers:
        return None
    shown = ', '.join(repr(key) for key in markers[:2])
    return (f'this looks like a checkpoint of the original SkeletonCLIP++ code (keys such as {shown}); convert it '
            f'with `python {CONVERTER} IN OUT` and load OUT')


def _bert_prefixes(state_dict: Mapping[str, Any]) -> List[str]:
    """Prefixes (``text_branch.text_encoder.``, ``text_encoder_m.module.``) of the BERTs in a converted state dict."""
    suffix = 'embeddings.word_embeddings.weight'
    return [key[:-len(suffix)] for key in state_dict if key.endswith(suffix)]


def _convert_queues(state: Dict[str, Any], source: str) -> Dict[str, Any]:
    """The original queue tensors of ``state`` (removed from it) in our FeatureQueue layout."""
    video_names = [name for name in VIDEO_QUEUE_NAMES if name in state]
    needed = ['text_queue', 'idx_queue', 'ptr_queue']
    missing = [name for name in needed if name not in state] + ([] if video_names else ['video_queue'])
    if missing:
        raise KeyError(f'{source}: a momentum checkpoint of the original code needs the queues video_queue (or '
                       f'image_queue), text_queue, idx_queue and ptr_queue; missing {missing}')
    video = state.pop(video_names[0])
    text = state.pop('text_queue')
    labels = state.pop('idx_queue').reshape(-1)
    ptr = state.pop('ptr_queue').reshape(-1)
    if video.dim() != 2 or text.shape != video.shape:
        raise ValueError(f'{source}: the feature queues must both be [D, Q]; got {video_names[0]} '
                         f'{tuple(video.shape)} and text_queue {tuple(text.shape)}')
    size = video.shape[1]
    if labels.numel() != size or ptr.numel() != 1:
        raise ValueError(f'{source}: idx_queue has {labels.numel()} slots and ptr_queue {ptr.numel()} values, but '
                         f'the feature queues have {size} slots; expected idx_queue [1, {size}] and ptr_queue [1]')
    labels = labels.long()
    if bool((labels == -1).any()):
        raise ValueError(f'{source}: idx_queue holds -1, which this library reads as "never written"; the original '
                         'code labels unwritten slots -100 and real ones with class indices')
    out = {}
    for name, feats in (('video_queue', video), ('text_queue', text)):
        out[f'{name}.feats'] = feats.t().contiguous()
        out[f'{name}.feat_labels'] = labels.clone()
        out[f'{name}.ptr'] = ptr.reshape(()).long().clone() % size
    out['num_updates'] = torch.ones((), dtype=torch.long)
    return out


def convert_seed_state_dict(state_dict: Mapping[str, Any], recognizer: str = 'auto',
                            type_vocab_size: int = SEED_TYPE_VOCAB_SIZE, source: str = '<state_dict>') -> \
        Tuple[Dict[str, Any], Dict[str, Any]]:
    """Convert the weights of an original-code recognizer into this library's key layout.

    Args:
        state_dict (Mapping[str, Tensor]): the original weights (a ``module.`` prefix on every key is dropped).
        recognizer (str): ``'auto'`` (detected from the keys), ``'visece'``, ``'itm'``, ``'mo'`` or ``'pacl'``.
        type_vocab_size (int): rows of the zero token-type table added to each BERT (our BertModel's
            ``type_vocab_size``, 2 by default); 0 adds none (a text encoder built with ``type_vocab_size=0``).
        source (str): where the weights come from, for the messages.

    Returns:
        tuple[dict, dict]: the converted state dict, and a report ``dict(recognizer=..., renamed=N, added=[...],
        dropped=[...])``.

    Raises:
        ValueError: the weights are not in the original layout, the recognizer does not fit them, or a tensor has
            an unexpected shape. KeyError: a part the recognizer needs is missing.
    """
    state = _strip_wrapper(state_dict)
    detected = detect_seed_recognizer(state)
    if detected is None:
        raise ValueError(f'{source}: no key of the original SkeletonCLIP++ layout (top-level text_encoder.* / '
                         'text_proj.*, video_embed_*, *_m.*, idx_queue); it is probably in this library\'s layout '
                         'already and loads as it is')
    if recognizer not in ('auto', ) + RECOGNIZERS:
        raise ValueError(f'recognizer={recognizer!r}: use auto or one of {RECOGNIZERS}')
    kind = detected if recognizer == 'auto' else recognizer
    fits = {'visece': ('visece', ), 'itm': ('itm', 'visece'), 'pacl': ('pacl', 'visece'), 'mo': ('mo', )}
    if detected not in fits[kind]:
        raise ValueError(f'{source}: --recognizer {kind} does not fit these weights, which look like a {detected} '
                         f'checkpoint; use --recognizer {detected} or auto')
    if kind == 'itm' and not any(key.startswith('itm_head.') for key in state):
        raise KeyError(f'{source}: an ITM checkpoint needs itm_head.weight / itm_head.bias; none found')

    report: Dict[str, Any] = dict(recognizer=kind, renamed=0, added=[], dropped=[])
    converted: Dict[str, Any] = {}
    if kind == 'mo':
        converted.update(_convert_queues(state, source))
        report['added'].append('num_updates')
    for key, value in state.items():
        new = key
        for old, ours in TEXT_RENAMES + PACL_RENAMES:
            if key.startswith(old):
                new = ours + key[len(old):]
                break
        else:
            for name in MOMENTUM_NAMES:
                if key.startswith(f'{name}_m.') and not key.startswith(f'{name}_m.module.'):
                    new = f'{name}_m.module.' + key[len(name) + 3:]
                    break
        new = RESNET_PART.sub(r'\1.resnet.\2.', new)
        if new.endswith('embeddings.position_ids'):
            report['dropped'].append(key)
            continue
        if new in converted:
            raise ValueError(f'{source}: {key!r} and another key both become {new!r}; the checkpoint mixes the '
                             'original layout and ours')
        converted[new] = value
        report['renamed'] += new != key
    if type_vocab_size > 0:
        for prefix in _bert_prefixes(converted):
            key = prefix + 'embeddings.token_type_embeddings.weight'
            if key not in converted:
                words = converted[prefix + 'embeddings.word_embeddings.weight']
                converted[key] = torch.zeros(type_vocab_size, words.shape[1], dtype=words.dtype)
                report['added'].append(key)
    return converted, report
