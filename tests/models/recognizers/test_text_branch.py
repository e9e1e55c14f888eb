import pytest
import torch

from pyskl.models.recognizers import ClassTextBranch
from pyskl.models.recognizers.text_branch import _default_tokenizer_name

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down', 'jump up']
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32))


def tiny_branch(**kwargs):
    args = dict(text_lists=NAMES, embed_dim=8, text_encoder=TINY_BERT, text_encoder_init=None, max_length=10)
    args.update(kwargs)
    return ClassTextBranch(**args)


class CallCounter:
    """Counts the text encoder's forward calls."""

    def __init__(self, module):
        self.calls = 0
        module.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        self.calls += 1


def test_structure_and_buffers():
    branch = tiny_branch()
    assert branch.num_sentences == 5
    assert len(branch.tokenizer) == 30524
    assert branch.text_encoder.get_input_embeddings().weight.shape == (30524, 16)
    assert branch.text_proj.in_features == 16 and branch.text_proj.out_features == 8
    assert branch.class_input_ids.shape == (5, 10) and branch.class_attention_mask.shape == (5, 10)
    assert torch.all(branch.class_input_ids[:, 0] == branch.tokenizer.cls_token_id)
    # tokenized once, kept as buffers that follow the module but stay out of the state_dict
    buffers = dict(branch.named_buffers())
    assert 'class_input_ids' in buffers and 'class_attention_mask' in buffers
    state = branch.state_dict()
    assert not any('class_input_ids' in k or 'class_attention_mask' in k for k in state)
    assert all(k.startswith(('text_encoder.', 'text_proj.')) for k in state)
    assert any(name.startswith('text_encoder.') for name, _ in branch.named_parameters())


def test_encode_text_shapes_and_norm():
    branch = tiny_branch().eval()
    ids, mask = branch.class_tokens(torch.tensor([3, 0, 3]))
    assert ids.shape == (3, 10) and torch.equal(ids[0], ids[2]) and not torch.equal(ids[0], ids[1])
    feat = branch.encode_text(ids, mask)
    assert feat.shape == (3, 8)
    assert torch.allclose(feat.norm(dim=1), torch.ones(3), atol=1e-5)
    raw = branch.encode_text(ids, mask, normalize=False)
    hidden = branch.text_encoder(ids, attention_mask=mask).last_hidden_state[:, 0]
    assert torch.allclose(raw, branch.text_proj(hidden), atol=1e-6)


def test_label_text_features_match_per_sample_encoding():
    branch = tiny_branch().eval()
    labels = torch.tensor([[2], [0], [2], [4]])
    feat = branch.label_text_features(labels)
    expected = branch.encode_text(*branch.class_tokens(labels.view(-1)))
    assert feat.shape == (4, 8)
    assert torch.allclose(feat, expected, atol=1e-6)


def test_class_features_cached_within_an_eval_pass():
    branch = tiny_branch().eval()
    counter = CallCounter(branch.text_encoder)
    first = branch.class_text_features()
    for _ in range(4):
        again = branch.class_text_features()
    assert counter.calls == 1
    assert again is first
    assert first.shape == (5, 8) and not first.requires_grad
    expected = branch.encode_text(branch.class_input_ids, branch.class_attention_mask)
    assert torch.allclose(first, expected, atol=1e-6)


def test_cache_refreshed_after_an_optimizer_step():
    branch = tiny_branch()
    optimizer = torch.optim.SGD(branch.parameters(), lr=0.5)
    counter = CallCounter(branch.text_encoder)
    branch.eval()
    before = branch.class_text_features().clone()
    branch.train()
    loss = -branch.label_text_features(torch.tensor([0, 1]))[:, 0].sum()
    loss.backward()
    optimizer.step()
    branch.eval()
    calls = counter.calls
    after = branch.class_text_features()
    assert counter.calls == calls + 1
    assert not torch.allclose(before, after)
    assert torch.allclose(after, branch.encode_text(branch.class_input_ids, branch.class_attention_mask), atol=1e-6)


def test_cache_refreshed_after_a_step_on_text_proj_only():
    branch = tiny_branch().eval()
    before = branch.class_text_features().clone()
    with torch.no_grad():
        branch.text_proj.weight.mul_(-1)  # an in-place update, as an optimizer does
    assert torch.allclose(branch.class_text_features(), -before, atol=1e-6)


def test_cache_refreshed_after_load_state_dict():
    branch = tiny_branch().eval()
    other = tiny_branch()
    with torch.no_grad():
        for param in other.parameters():
            param.add_(torch.randn_like(param) * 0.5)
    counter = CallCounter(branch.text_encoder)
    before = branch.class_text_features().clone()
    branch.load_state_dict(other.state_dict())
    after = branch.class_text_features()
    assert counter.calls == 2
    other.eval()
    assert torch.allclose(after, other.class_text_features(), atol=1e-6)
    assert not torch.allclose(before, after)


def test_train_mode_features_have_gradients_and_no_cache():
    branch = tiny_branch().train()
    counter = CallCounter(branch.text_encoder)
    feat = branch.class_text_features()
    branch.class_text_features()
    assert counter.calls == 2 and feat.requires_grad
    feat.sum().backward()
    assert branch.text_encoder.get_input_embeddings().weight.grad is not None


def test_frozen_bert_stays_in_eval_mode_without_gradients():
    branch = tiny_branch(frozen_bert=True)
    for mode in (True, False, True):
        branch.train(mode)
        assert branch.training == mode
        assert not branch.text_encoder.training
        assert all(not m.training for m in branch.text_encoder.modules())
    assert all(not p.requires_grad for p in branch.text_encoder.parameters())
    assert all(p.requires_grad for p in branch.text_proj.parameters())
    feat = branch.label_text_features(torch.tensor([0, 1, 1]))
    feat.sum().backward()
    assert all(p.grad is None for p in branch.text_encoder.parameters())
    assert branch.text_proj.weight.grad is not None and branch.text_proj.weight.grad.abs().sum() > 0
    # no dropout in the frozen encoder: the same sentence gives the same feature in train mode
    again = branch.label_text_features(torch.tensor([0, 1, 1]))
    assert torch.allclose(feat, again)


def test_unfrozen_encoder_follows_train_mode():
    branch = tiny_branch()
    branch.train()
    assert branch.text_encoder.training
    branch.eval()
    assert not branch.text_encoder.training


def test_init_weights_keeps_the_text_encoder():
    branch = tiny_branch()
    encoder = {k: v.clone() for k, v in branch.text_encoder.state_dict().items()}
    proj = branch.text_proj.weight.clone()
    branch.init_weights()
    assert all(torch.equal(v, branch.text_encoder.state_dict()[k]) for k, v in encoder.items())
    assert not torch.equal(proj, branch.text_proj.weight)


def test_class_list_length_must_match_num_classes():
    with pytest.raises(ValueError, match=r'lists/ntu60.csv has 60 names but num_classes is 120'):
        tiny_branch(text_lists='lists/ntu60.csv', num_classes=120)
    branch = tiny_branch(text_lists='lists/ntu60.csv', num_classes=60)
    assert branch.num_sentences == 60 and branch.class_names[0] == 'drink water'


@pytest.mark.parametrize('label', [5, -1, 60])
def test_out_of_range_label(label):
    branch = tiny_branch()
    with pytest.raises(ValueError, match=f'label {label} has no sentence in the class list <list of names>.* 5 '):
        branch.label_text_features(torch.tensor([0, label]))
    path_branch = tiny_branch(text_lists='lists/hmdb51.csv')
    if label >= 51 or label < 0:
        with pytest.raises(ValueError, match=f'label {label} .*lists/hmdb51.csv'):
            path_branch.class_tokens(torch.tensor([label]))


def test_float_labels_rejected():
    with pytest.raises(ValueError, match='class indices'):
        tiny_branch().check_labels(torch.tensor([0.5, 1.0]))


def test_built_text_encoder_module_is_used_as_is():
    donor = tiny_branch()
    branch = ClassTextBranch(NAMES, embed_dim=4, text_encoder=donor.text_encoder)
    assert branch.text_encoder is donor.text_encoder and branch.text_proj.in_features == 16


def test_unknown_text_encoder_type():
    with pytest.raises(ValueError, match="type 'RobertaModel' is not supported"):
        tiny_branch(text_encoder=dict(type='RobertaModel', config=dict()))


def test_max_length_truncates_and_pads():
    branch = tiny_branch(max_length=4)
    assert branch.class_input_ids.shape == (5, 4)
    assert torch.all(branch.class_input_ids[:, -1] == branch.tokenizer.sep_token_id)  # truncated sentences end in SEP


def test_default_tokenizer_name(tmp_path):
    assert _default_tokenizer_name('minilm') == 'minilm'
    assert _default_tokenizer_name(None) == 'bert-base-uncased'
    assert _default_tokenizer_name('bert-base-uncased') == 'bert-base-uncased'
    (tmp_path / 'vocab.txt').write_text('[PAD]\n')
    assert _default_tokenizer_name(str(tmp_path)) == str(tmp_path)
