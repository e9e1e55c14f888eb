import math

import pytest
import torch
import torch.nn.functional as F
import transformers
from mmcv import ConfigDict

from pyskl.models import BACKBONES, build_backbone
from pyskl.models.text import BertModel, to_bert_config


def tiny_config(**kwargs):
    cfg = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=120,
               max_position_embeddings=24, type_vocab_size=2, hidden_act='gelu', hidden_dropout_prob=0.1,
               attention_probs_dropout_prob=0.1, initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
               encoder_width=20, add_cross_attention=True)
    cfg.update(kwargs)
    return cfg


def make_inputs(batch=3, length=7, frames=5, width=20, vocab=120, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (batch, length), generator=gen)
    mask = torch.ones(batch, length, dtype=torch.long)
    for row in range(batch):  # row i keeps length - i tokens
        mask[row, length - row:] = 0
        ids[row, length - row:] = 0
    video = torch.randn(batch, frames, width, generator=gen)
    return ids, mask, video


def reference_forward(model, ids, mask, video=None, video_mask=None):
    """Eager re-computation of BERT with explicit softmax attention, using ``model``'s own weights."""
    cfg = model.config
    heads, hidden = cfg.num_attention_heads, cfg.hidden_size
    head_dim = hidden // heads

    def attend(block, x, context, keep):
        def split(t):
            return t.view(t.shape[0], t.shape[1], heads, head_dim).transpose(1, 2)

        q, k, v = split(block.self.query(x)), split(block.self.key(context)), split(block.self.value(context))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim)
        scores = scores.masked_fill(~keep.bool()[:, None, None, :], float('-inf'))
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape)
        return F.layer_norm(block.output.dense(out) + x, (hidden, ), block.output.LayerNorm.weight,
                            block.output.LayerNorm.bias, cfg.layer_norm_eps)

    emb = model.embeddings
    pos = torch.arange(ids.shape[1])
    x = emb.word_embeddings.weight[ids] + emb.position_embeddings.weight[pos] + emb.token_type_embeddings.weight[0]
    x = F.layer_norm(x, (hidden, ), emb.LayerNorm.weight, emb.LayerNorm.bias, cfg.layer_norm_eps)
    for layer in model.encoder.layer:
        x = attend(layer.attention, x, x, mask)
        if video is not None:
            keep = video_mask if video_mask is not None else torch.ones(video.shape[:2])
            x = attend(layer.crossattention, x, video, keep)
        h = F.gelu(layer.intermediate.dense(x))
        x = F.layer_norm(layer.output.dense(h) + x, (hidden, ), layer.output.LayerNorm.weight,
                         layer.output.LayerNorm.bias, cfg.layer_norm_eps)
    return x


def test_registered_and_built_from_configdict():
    assert BACKBONES.get('BertModel') is BertModel
    model = build_backbone(dict(type='BertModel', config=ConfigDict(tiny_config()), add_pooling_layer=False))
    assert isinstance(model, BertModel)
    assert model.hidden_size == 32
    assert model.config.encoder_width == 20
    assert model.has_cross_attention
    assert model.pooler is None
    assert model.get_input_embeddings().weight.shape == (120, 32)
    assert model.encoder.layer[1].crossattention.self.key.weight.shape == (32, 20)


def test_parameter_names_match_hugging_face_bert():
    ours = BertModel(tiny_config(encoder_width=32))
    hf_cfg = transformers.BertConfig(**tiny_config(encoder_width=32), is_decoder=True)
    theirs = transformers.BertModel(hf_cfg, add_pooling_layer=False)
    ours_shapes = {key: tuple(value.shape) for key, value in ours.state_dict().items()}
    theirs_shapes = {key: tuple(value.shape) for key, value in theirs.state_dict().items()
                     if not key.startswith(('embeddings.position_ids', 'embeddings.token_type_ids'))}
    assert ours_shapes == theirs_shapes
    assert 'encoder.layer.0.crossattention.self.query.weight' in ours_shapes
    assert 'encoder.layer.1.output.LayerNorm.weight' in ours_shapes
    plain = BertModel(tiny_config(add_cross_attention=False))
    assert not any('crossattention' in key for key in plain.state_dict())


@pytest.mark.parametrize('with_token_types', [False, True])
def test_text_mode_equals_hugging_face_bert(with_token_types):
    cfg = tiny_config(add_cross_attention=False)
    theirs = transformers.BertModel(transformers.BertConfig(**cfg), add_pooling_layer=False).eval()
    ours = BertModel(cfg).eval()
    missing, unexpected = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert not missing
    assert set(unexpected) <= {'embeddings.token_type_ids'}
    ids, mask, _ = make_inputs()
    token_types = (torch.arange(ids.shape[1]) >= 3).long().expand_as(ids) if with_token_types else None
    with torch.no_grad():
        out = ours(ids, mask, token_type_ids=token_types).last_hidden_state
        ref = theirs(input_ids=ids, attention_mask=mask, token_type_ids=token_types).last_hidden_state
    keep = mask.bool()
    assert out.shape == (3, 7, 32)
    torch.testing.assert_close(out[keep], ref[keep], atol=1e-5, rtol=1e-5)


def test_multimodal_equals_eager_reference_with_masks():
    model = BertModel(tiny_config()).eval()
    ids, mask, video = make_inputs()
    video_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    with torch.no_grad():
        out = model(ids, mask, encoder_hidden_states=video, encoder_attention_mask=video_mask,
                    mode='multimodal').last_hidden_state
        ref = reference_forward(model, ids, mask, video, video_mask)
        text_out = model(ids, mask, mode='text').last_hidden_state
        text_ref = reference_forward(model, ids, mask)
    keep = mask.bool()
    torch.testing.assert_close(out[keep], ref[keep], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(text_out[keep], text_ref[keep], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('batch,length,frames,layers,heads', [(1, 4, 1, 1, 1), (2, 10, 8, 2, 4), (5, 3, 17, 3, 8)])
def test_shapes_sweep(batch, length, frames, layers, heads):
    model = BertModel(tiny_config(num_hidden_layers=layers, num_attention_heads=heads)).eval()
    ids, mask, video = make_inputs(batch, length, frames)
    mask[:, 0] = 1
    out = model(ids, mask, encoder_hidden_states=video, mode='multimodal')
    assert out.last_hidden_state.shape == (batch, length, 32)
    assert out.pooler_output is None
    assert torch.isfinite(out.last_hidden_state).all()
    assert out[0] is out.last_hidden_state


def test_text_mode_ignores_video_and_multimodal_uses_it():
    model = BertModel(tiny_config()).eval()
    ids, mask, video = make_inputs()
    with torch.no_grad():
        text = model(ids, mask).last_hidden_state
        text_with_video = model(ids, mask, encoder_hidden_states=video, mode='text').last_hidden_state
        multi = model(ids, mask, encoder_hidden_states=video, mode='multimodal').last_hidden_state
        multi_other = model(ids, mask, encoder_hidden_states=video.flip(0), mode='multimodal').last_hidden_state
    torch.testing.assert_close(text, text_with_video, atol=0, rtol=0)
    assert (multi - text).abs().max() > 1e-3
    assert (multi - multi_other).abs().max() > 1e-3


def test_masked_video_entries_equal_removed_entries():
    model = BertModel(tiny_config()).eval()
    ids, mask, video = make_inputs(batch=2, frames=6)
    video_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        masked = model(ids, mask, encoder_hidden_states=video, encoder_attention_mask=video_mask,
                       mode='multimodal').last_hidden_state
        cut = model(ids, mask, encoder_hidden_states=video[:, :4], mode='multimodal').last_hidden_state
    torch.testing.assert_close(masked, cut, atol=1e-5, rtol=1e-5)


def test_padding_does_not_change_token_features():
    model = BertModel(tiny_config()).eval()
    ids, mask, video = make_inputs(batch=1, length=5)
    padded_ids = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
    padded_mask = torch.cat([mask, torch.zeros(1, 4, dtype=torch.long)], 1)
    with torch.no_grad():
        short = model(ids, mask, encoder_hidden_states=video, mode='multimodal').last_hidden_state
        long = model(padded_ids, padded_mask, encoder_hidden_states=video, mode='multimodal').last_hidden_state
    torch.testing.assert_close(long[:, :5], short, atol=1e-5, rtol=1e-5)


def test_gradients_reach_cross_attention_only_in_multimodal_mode():
    model = BertModel(tiny_config())
    ids, mask, video = make_inputs()
    video.requires_grad_(True)
    probe = torch.randn(32)  # a plain sum of LayerNorm outputs would have zero gradient
    (model(ids, mask, encoder_hidden_states=video, mode='text').last_hidden_state[:, 0] @ probe).sum().backward()
    assert model.encoder.layer[0].crossattention.self.key.weight.grad is None
    assert video.grad is None
    model.zero_grad()
    (model(ids, mask, encoder_hidden_states=video, mode='multimodal').last_hidden_state[:, 0] @ probe).sum().backward()
    assert model.encoder.layer[0].crossattention.self.key.weight.grad.abs().sum() > 0
    assert video.grad.abs().sum() > 0


def test_dropout_only_in_training():
    model = BertModel(tiny_config(hidden_dropout_prob=0.5, attention_probs_dropout_prob=0.5))
    ids, mask, _ = make_inputs()
    torch.manual_seed(0)
    first, second = model(ids, mask).last_hidden_state, model(ids, mask).last_hidden_state
    assert (first - second).abs().max() > 1e-3
    model.eval()
    torch.testing.assert_close(model(ids, mask).last_hidden_state, model(ids, mask).last_hidden_state)


def test_pooler():
    model = BertModel(tiny_config(), add_pooling_layer=True).eval()
    ids, mask, _ = make_inputs()
    out = model(ids, mask)
    expected = torch.tanh(model.pooler.dense(out.last_hidden_state[:, 0]))
    torch.testing.assert_close(out.pooler_output, expected)
    assert 'pooler.dense.weight' in model.state_dict()


def test_errors_name_the_problem():
    model = BertModel(tiny_config())
    ids, mask, video = make_inputs()
    with pytest.raises(ValueError, match='needs encoder_hidden_states'):
        model(ids, mask, mode='multimodal')
    with pytest.raises(ValueError, match='mode must be one of'):
        model(ids, mask, mode='fusion')
    with pytest.raises(ValueError, match='encoder_width=20'):
        model(ids, mask, encoder_hidden_states=torch.randn(3, 5, 21), mode='multimodal')
    with pytest.raises(ValueError, match=r'\[B, L\]'):
        model(ids, mask[:, :3])
    with pytest.raises(ValueError, match='max_position_embeddings'):
        model(torch.ones(1, 30, dtype=torch.long))
    text_only = BertModel(tiny_config(add_cross_attention=False))
    with pytest.raises(ValueError, match='add_cross_attention=True'):
        text_only(ids, mask, encoder_hidden_states=video, mode='multimodal')
    with pytest.raises(ValueError, match='not a multiple'):
        BertModel(tiny_config(num_attention_heads=5))
    with pytest.raises(TypeError, match='BertConfig or a dict'):
        BertModel([1, 2])


def test_initialisation():
    model = BertModel(tiny_config(hidden_size=64, intermediate_size=128, initializer_range=0.05))
    query = model.encoder.layer[0].crossattention.self.query
    assert abs(query.weight.std().item() - 0.05) < 0.01
    assert torch.all(query.bias == 0)
    assert torch.all(model.embeddings.word_embeddings.weight[0] == 0)  # padding row
    assert torch.all(model.encoder.layer[0].output.LayerNorm.weight == 1)


def test_to_bert_config_copies_and_overrides():
    base = transformers.BertConfig(**tiny_config())
    cfg = to_bert_config(base, vocab_size=130, encoder_width=None)
    assert cfg.vocab_size == 130 and base.vocab_size == 120
    assert cfg.encoder_width == 20 and cfg.add_cross_attention
    defaults = to_bert_config(dict(hidden_size=48, num_attention_heads=4))
    assert defaults.encoder_width == 48
    assert defaults.add_cross_attention is False
    assert defaults.num_hidden_layers == 12


def test_blip_layout_without_token_types_loads_old_state_dicts():
    model = BertModel(tiny_config(type_vocab_size=0))
    assert model.embeddings.token_type_embeddings is None
    state = dict(model.state_dict())
    state['embeddings.position_ids'] = torch.arange(24)[None]
    other = BertModel(tiny_config(type_vocab_size=0))
    other.load_state_dict(state, strict=True)  # the stored position_ids buffer is accepted and dropped
    ids, mask, _ = make_inputs()
    model.eval()
    other.eval()
    torch.testing.assert_close(model(ids, mask).last_hidden_state, other(ids, mask).last_hidden_state)
