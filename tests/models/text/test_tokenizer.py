import os
import shutil

import pytest
import torch
import transformers

from pyskl.models.text import TextTokenizer, build_tokenizer, packaged_minilm_dir

# Well-known bert-base-uncased ids.
CLS, SEP, PAD = 101, 102, 0
HELLO_WORLD = [CLS, 7592, 2088, SEP]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    import huggingface_hub.constants
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)


@pytest.fixture(scope='module')
def tokenizer():
    return build_tokenizer('bert-base-uncased')


@pytest.fixture(scope='module')
def reference_tokenizer():
    """Hugging Face's ``BertTokenizer`` on the packaged vocabulary (the pure-Python implementation in 4.x)."""
    return transformers.BertTokenizer.from_pretrained(packaged_minilm_dir())


def uncased_cache_entry(cache):
    """A Hugging Face hub cache holding the tokenizer files of 'bert-base-uncased'."""
    commit = 'f' * 40
    repo = cache / 'models--bert-base-uncased'
    (repo / 'snapshots' / commit).mkdir(parents=True)
    (repo / 'refs').mkdir()
    (repo / 'refs' / 'main').write_text(commit)
    for name in ('vocab.txt', 'tokenizer_config.json'):
        shutil.copy(os.path.join(packaged_minilm_dir(), name), repo / 'snapshots' / commit / name)
    return str(cache)


def test_special_tokens(tokenizer):
    assert isinstance(tokenizer, TextTokenizer)
    assert len(tokenizer) == 30524
    assert tokenizer.bos_token_id == 30522
    assert tokenizer.enc_token_id == 30523
    assert tokenizer.decode([tokenizer.enc_token_id]) == '[ENC]'
    assert tokenizer.decode([tokenizer.bos_token_id]) == '[DEC]'
    assert tokenizer.convert_tokens_to_ids('[ENC]') == tokenizer.enc_token_id
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id) == (CLS, SEP, PAD)
    assert tokenizer('[ENC] hello world')['input_ids'] == [CLS, 30523] + HELLO_WORLD[1:]


def test_tokenize_sentences_pads_and_truncates(tokenizer):
    batch = tokenizer.tokenize_sentences(['Hello World', 'hello world ' * 20, 'drinking water'], max_length=10)
    assert set(batch) == {'input_ids', 'attention_mask'}
    ids, mask = batch['input_ids'], batch['attention_mask']
    assert ids.shape == mask.shape == (3, 10)
    assert ids.dtype == mask.dtype == torch.long
    assert ids[0].tolist() == HELLO_WORLD + [PAD] * 6
    assert mask[0].tolist() == [1] * 4 + [0] * 6
    assert ids[1, 0] == CLS and ids[1, -1] == SEP and mask[1].all()  # truncated, [SEP] kept
    assert tokenizer.tokenize_sentences('hello world', max_length=4)['input_ids'].tolist() == [HELLO_WORLD]
    with pytest.raises(ValueError, match='no sentences'):
        tokenizer.tokenize_sentences([])


def test_plain_call_does_not_pad(tokenizer):
    encoded = tokenizer(['hello world', 'drinking water from a bottle'])
    assert encoded['input_ids'][0] == HELLO_WORLD
    assert len(encoded['input_ids'][1]) < 20


@pytest.mark.parametrize('sentence', ['Drinking water.', 'Kicking something with the LEFT leg', 'Naïve café über',
                                      'put on a hat/cap', 'brushing teeth', 'salute'])
def test_ids_equal_the_reference_tokenizer(tokenizer, reference_tokenizer, sentence):
    assert tokenizer(sentence)['input_ids'] == reference_tokenizer(sentence)['input_ids']


def test_sources_agree(tmp_path, tokenizer):
    sentences = ['drinking water', 'Wipe face', 'hopping (one foot jumping)']
    expected = tokenizer.tokenize_sentences(sentences)['input_ids']
    minilm = build_tokenizer('minilm')
    cached = build_tokenizer('bert-base-uncased', cache_dir=uncased_cache_entry(tmp_path / 'hub'))
    assert 'snapshots' in cached.source
    folder = tmp_path / 'saved'
    tokenizer.tokenizer.save_pretrained(str(folder))  # already holds [DEC] and [ENC]: they are not added twice
    reloaded = build_tokenizer(str(folder))
    for other in (minilm, cached, reloaded):
        assert len(other) == 30524
        assert (other.bos_token_id, other.enc_token_id) == (30522, 30523)
        assert torch.equal(other.tokenize_sentences(sentences)['input_ids'], expected)


def test_missing_sources_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match='huggingface-cli download bert-base-cased'):
        build_tokenizer('bert-base-cased', cache_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build_tokenizer(str(tmp_path / 'nowhere'))


def test_replace_first_with_enc(tokenizer):
    ids = tokenizer.tokenize_sentences(['hello world', 'drinking water'])['input_ids']
    swapped = tokenizer.replace_first_with_enc(ids)
    assert torch.all(swapped[:, 0] == tokenizer.enc_token_id)
    assert torch.equal(swapped[:, 1:], ids[:, 1:])
    assert torch.all(ids[:, 0] == CLS)  # the input is untouched
