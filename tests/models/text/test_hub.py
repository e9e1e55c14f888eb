"""Hugging Face names are fetched through the hub into its cache when online; offline they come from the cache only.

The hub is never contacted: ``huggingface_hub.snapshot_download`` is replaced by a fake hub that serves the files
of a local folder into a hub-layout cache (``models--<repo>/snapshots/<commit>``) and records every call.
"""
import fnmatch
import logging
import os
import shutil

import huggingface_hub
import huggingface_hub.constants
import pytest
import torch
import transformers
from huggingface_hub.errors import LocalEntryNotFoundError

from pyskl.models.text import build_text_encoder, build_tokenizer, packaged_minilm_dir

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=100,
            max_position_embeddings=16, type_vocab_size=2)
COMMIT = 'fedcba9876543210fedcba9876543210fedcba98'


class FakeHub:
    """``snapshot_download`` over a dict repo_id -> local folder; cache lookups honour what was fetched."""

    def __init__(self, repos, fail=None):
        self.repos = repos
        self.fail = fail
        self.downloads = []

    def __call__(self, repo_id, cache_dir=None, local_files_only=False, allow_patterns=None, **kwargs):
        snapshot = os.path.join(cache_dir, 'models--' + repo_id.replace('/', '--'), 'snapshots', COMMIT)
        if local_files_only:
            if not os.path.isdir(snapshot):
                raise LocalEntryNotFoundError(f'{repo_id} is not cached')
            return snapshot
        self.downloads.append((repo_id, tuple(allow_patterns or ('*', ))))
        if self.fail is not None:
            raise self.fail
        source = self.repos[repo_id]
        os.makedirs(snapshot, exist_ok=True)
        for name in os.listdir(source):
            if any(fnmatch.fnmatch(name, pattern) for pattern in allow_patterns or ('*', )):
                shutil.copy(os.path.join(source, name), os.path.join(snapshot, name))
        return snapshot


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    monkeypatch.delenv('TRANSFORMERS_OFFLINE', raising=False)
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', False)


def install(monkeypatch, hub):
    monkeypatch.setattr(huggingface_hub, 'snapshot_download', hub)
    return hub


@pytest.fixture
def hub_repo(tmp_path):
    """A repo with a tiny BERT in safetensors and PyTorch formats (and files that must not be fetched)."""
    torch.manual_seed(0)
    folder = tmp_path / 'repo'
    model = transformers.BertModel(transformers.BertConfig(**TINY)).eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    torch.save(model.state_dict(), folder / 'pytorch_model.bin')
    (folder / 'tf_model.h5').write_bytes(b'not fetched')
    return str(folder), model


def test_online_name_is_fetched_into_the_cache_then_read_from_it(tmp_path, monkeypatch, online, hub_repo):
    source, reference = hub_repo
    hub = install(monkeypatch, FakeHub({'org/tiny-bert': source}))
    cache = str(tmp_path / 'hub')
    model = build_text_encoder(text_encoder_init='org/tiny-bert', cache_dir=cache).eval()
    assert len(hub.downloads) == 1
    repo_id, patterns = hub.downloads[0]
    assert repo_id == 'org/tiny-bert' and 'model.safetensors' in patterns and 'config.json' in patterns
    snapshot = os.path.join(cache, 'models--org--tiny-bert', 'snapshots', COMMIT)
    assert sorted(os.listdir(snapshot)) == ['config.json', 'model.safetensors']  # only what is needed
    ids = torch.randint(1, 100, (2, 7))
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, reference(input_ids=ids).last_hidden_state,
                                   atol=1e-5, rtol=1e-5)
    build_text_encoder(text_encoder_init='org/tiny-bert', cache_dir=cache)
    assert len(hub.downloads) == 1  # the second build finds it in the cache


def test_repo_without_safetensors_falls_back_to_pytorch_weights(tmp_path, monkeypatch, online, hub_repo):
    source, reference = hub_repo
    os.remove(os.path.join(source, 'model.safetensors'))
    hub = install(monkeypatch, FakeHub({'org/tiny-bert': source}))
    model = build_text_encoder(text_encoder_init='org/tiny-bert', cache_dir=str(tmp_path / 'hub')).eval()
    assert len(hub.downloads) == 2 and 'pytorch_model.bin' in hub.downloads[1][1]
    ids = torch.randint(1, 100, (1, 5))
    with torch.no_grad():
        torch.testing.assert_close(model(ids).last_hidden_state, reference(input_ids=ids).last_hidden_state,
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('how', ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'local_files_only'])
def test_offline_never_contacts_the_hub_and_says_why(how, tmp_path, monkeypatch, online, hub_repo):
    hub = install(monkeypatch, FakeHub({'bert-base-uncased': hub_repo[0]}))
    kwargs = {}
    if how == 'local_files_only':
        kwargs['local_files_only'] = True
    else:
        monkeypatch.setenv(how, '1')
    with pytest.raises(FileNotFoundError) as info:
        build_text_encoder(text_encoder_init='bert-base-uncased', cache_dir=str(tmp_path / 'hub'), **kwargs)
    assert hub.downloads == []
    message = str(info.value)
    assert ('local_files_only=True' if how == 'local_files_only' else 'HF_HUB_OFFLINE') in message
    assert 'huggingface-cli download bert-base-uncased' in message and "text_encoder_init='minilm'" in message


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch, online):
    install(monkeypatch, FakeHub({}, fail=OSError('could not resolve host huggingface.co')))
    with pytest.raises(FileNotFoundError) as info:
        build_text_encoder(text_encoder_init='bert-base-uncased', cache_dir=str(tmp_path / 'hub'))
    message = str(info.value)
    assert 'the download failed' in message and 'could not resolve host' in message
    assert 'local folder' in message


@pytest.fixture
def tokenizer_repo(tmp_path):
    """A hub repo holding the bert-base-uncased tokenizer files (the packaged vocabulary is the same)."""
    folder = tmp_path / 'tokenizer_repo'
    folder.mkdir()
    for name in ('vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'):
        if os.path.isfile(os.path.join(packaged_minilm_dir(), name)):
            shutil.copy(os.path.join(packaged_minilm_dir(), name), folder / name)
    (folder / 'model.safetensors').write_bytes(b'weights are not fetched for a tokenizer')
    return str(folder)


def test_online_tokenizer_is_fetched_from_the_hub(tmp_path, monkeypatch, online, tokenizer_repo):
    hub = install(monkeypatch, FakeHub({'bert-base-uncased': tokenizer_repo}))
    tokenizer = build_tokenizer('bert-base-uncased', cache_dir=str(tmp_path / 'hub'))
    assert len(hub.downloads) == 1 and 'vocab.txt' in hub.downloads[0][1]
    assert 'hub' in tokenizer.source and len(tokenizer) == 30524
    snapshot = os.path.join(str(tmp_path / 'hub'), 'models--bert-base-uncased', 'snapshots', COMMIT)
    assert 'model.safetensors' not in os.listdir(snapshot)
    assert tokenizer.tokenize_sentences(['drink water'], max_length=5)['input_ids'].tolist() == \
        [[101, 4392, 2300, 102, 0]]
    build_tokenizer('bert-base-uncased', cache_dir=str(tmp_path / 'hub'))
    assert len(hub.downloads) == 1


def test_offline_or_failed_tokenizer_falls_back_to_the_packaged_vocabulary(tmp_path, monkeypatch, online, caplog):
    hub = install(monkeypatch, FakeHub({}, fail=OSError('network is unreachable')))
    with caplog.at_level(logging.INFO, logger='pyskl'):
        tokenizer = build_tokenizer('bert-base-uncased', cache_dir=str(tmp_path / 'hub'))
    assert tokenizer.source.endswith('(packaged vocabulary)') and 'network is unreachable' in caplog.text
    assert len(hub.downloads) == 1
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    offline = build_tokenizer('bert-base-uncased', cache_dir=str(tmp_path / 'hub'))
    assert offline.source.endswith('(packaged vocabulary)')
    assert len(hub.downloads) == 1  # offline: not contacted


def test_unknown_tokenizer_offline_is_an_error(tmp_path, monkeypatch, online):
    hub = install(monkeypatch, FakeHub({}))
    with pytest.raises(FileNotFoundError, match='local_files_only=True'):
        build_tokenizer('org/some-tokenizer', cache_dir=str(tmp_path / 'hub'), local_files_only=True)
    assert hub.downloads == []
