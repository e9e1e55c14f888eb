from .bert import BertModel, to_bert_config
from .pretrained import (
    MINILM_ALIASES,
    build_text_encoder,
    find_in_hf_cache,
    load_bert_state_dict,
    load_bert_weights,
    packaged_minilm_dir,
    resolve_text_encoder_path,
)
from .tokenizer import TextTokenizer, build_tokenizer

__all__ = [
    'BertModel', 'to_bert_config', 'build_text_encoder', 'resolve_text_encoder_path', 'packaged_minilm_dir',
    'find_in_hf_cache', 'load_bert_state_dict', 'load_bert_weights', 'MINILM_ALIASES', 'TextTokenizer',
    'build_tokenizer'
]
