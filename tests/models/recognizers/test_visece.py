import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.runner import build_optimizer
from tiny_text_models import clips, train_log_vars

from pyskl.models import build_model
from pyskl.models.recognizers import RecognizerVisece, ResidualMLPEmbedder

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
             num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2),
             inflate=(0, 1))
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32))


def tiny_model(**kwargs):
    cfg = dict(type='RecognizerVisece', video_encoder=VIDEO, text_encoder=TINY_BERT, text_encoder_init=None,
               text_lists=NAMES, embed_dim=8)
    cfg.update(kwargs)
    return build_model(cfg)


class CallCounter:

    def __init__(self, module):
        self.calls = 0
        module.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        self.calls += 1


def test_forward_train_outputs():
    model = tiny_model()
    out = model(clips(), torch.tensor([0, 1, 2, 1]))
    assert set(out) == {'loss_cls', 'temp'}
    assert all(isinstance(v, torch.Tensor) for v in out.values())
    assert out['loss_cls'].shape == () and out['loss_cls'].requires_grad
    assert out['temp'].item() == pytest.approx(0.07) and not out['temp'].requires_grad
    loss, log_vars = model._parse_losses(out)
    assert set(log_vars) == {'loss_cls', 'temp', 'loss'} and loss is not None


def test_loss_is_the_contrastive_loss_of_the_embeddings():
    model = tiny_model().eval()  # no dropout / BN updates: the two passes see the same features
    imgs, labels = clips(), torch.tensor([0, 1, 0, 3])
    with torch.no_grad():
        out = model.forward_train(imgs, labels)
        video = model.encode_video(imgs)
        text = model.text_branch.encode_text(*model.text_branch.class_tokens(labels))
        logits = video @ text.t() / model.temp
        mask = (labels[:, None] == labels[None]).float()
        targets = mask / mask.sum(1, keepdim=True)
        expected = -((targets * F.log_softmax(logits, 1)).sum(1).mean() +
                     (targets * F.log_softmax(logits.t(), 1)).sum(1).mean()) / 2
    assert torch.allclose(out['loss_cls'], expected, atol=1e-5)


@pytest.mark.parametrize('label', [torch.tensor([1, 3]), torch.tensor([[1], [3]])])
def test_label_shapes_and_clip_repeat(label):
    model = tiny_model()
    out = model(clips(batch=2, num_clips=3), label)
    assert torch.isfinite(out['loss_cls'])
    assert torch.equal(model._clip_labels(label, 2, 3), torch.tensor([1, 1, 1, 3, 3, 3]))


def test_label_errors():
    model = tiny_model()
    with pytest.raises(ValueError, match='label 4 has no sentence in the class list'):
        model(clips(2), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match='does not match the batch of 4'):
        model(clips(4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'\[B, num_clips, C, T, H, W\]'):
        model(torch.rand(4, 3, 8, 16, 16), torch.tensor([0, 1, 2, 3]))


@pytest.mark.parametrize('start, clamped', [(5.0, 0.5), (0.0, 0.001), (-1.0, 0.001), (0.2, 0.2)])
def test_temperature_clamped_every_training_forward(start, clamped):
    model = tiny_model()
    with torch.no_grad():
        model.temp.fill_(start)
    out = model(clips(2), torch.tensor([0, 1]))
    assert model.temp.item() == pytest.approx(clamped)
    assert out['temp'].item() == pytest.approx(clamped)


def test_temperature_init_range():
    with pytest.raises(ValueError, match='temp=0.9'):
        tiny_model(temp=0.9)


@pytest.mark.parametrize('proj_mode', ['frame', 'pool'])
@pytest.mark.parametrize('embedder', ['linear', 'mlp'])
def test_encode_video(proj_mode, embedder):
    model = tiny_model(proj_mode=proj_mode, embedder=embedder).eval()
    imgs = clips(batch=2, num_clips=3)
    with torch.no_grad():
        feat = model.encode_video(imgs)
        frames = model.video_encoder(imgs.reshape(6, 3, 8, 16, 16))
        if proj_mode == 'frame':
            expected = model.vision_proj(frames).mean(dim=1)
        else:
            expected = model.vision_proj(frames.mean(dim=1))
    assert frames.shape == (6, 4, 16)
    assert feat.shape == (6, 8)
    assert torch.allclose(feat, F.normalize(expected, dim=-1), atol=1e-6)
    assert isinstance(model.vision_proj, ResidualMLPEmbedder) == (embedder == 'mlp')


def test_frame_and_pool_differ_with_mlp():
    torch.manual_seed(0)
    frame = tiny_model(embedder='mlp', proj_mode='frame').eval()
    pool = tiny_model(embedder='mlp', proj_mode='pool').eval()
    pool.load_state_dict(frame.state_dict())
    # per-frame features that vary over time (a tiny untrained encoder gives nearly constant ones)
    frames = torch.randn(2, 4, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        per_frame = F.normalize(frame.vision_proj(frames).mean(dim=1), dim=-1)
        pooled = F.normalize(frame.vision_proj(frames.mean(dim=1)), dim=-1)
        assert torch.allclose(frame.embed_video(frames), per_frame, atol=1e-6)
        assert torch.allclose(pool.embed_video(frames), pooled, atol=1e-6)
        assert not torch.allclose(per_frame, pooled, atol=1e-2)


def test_residual_mlp_embedder():
    embedder = ResidualMLPEmbedder(6, 4)
    x = torch.randn(2, 5, 6)
    expected = embedder.fc2(F.gelu(embedder.fc1(x))) + embedder.shortcut(x)
    assert embedder(x).shape == (2, 5, 4) and torch.allclose(embedder(x), expected)


def test_bad_options():
    with pytest.raises(ValueError, match='proj_mode'):
        tiny_model(proj_mode='cls')
    with pytest.raises(ValueError, match='embedder'):
        tiny_model(embedder='transformer')


def test_forward_test_probabilities():
    model = tiny_model().eval()
    imgs = clips(batch=3, num_clips=2)
    with torch.no_grad():
        scores = model(imgs, return_loss=False)
        video = model.encode_video(imgs)
        text = model.text_branch.class_text_features()
        expected = F.softmax(video @ text.t(), dim=1).reshape(3, 2, -1).mean(dim=1)
    assert isinstance(scores, np.ndarray) and scores.shape == (3, 4)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_forward_test_average_score_and_views():
    model = tiny_model(test_cfg=dict(average_clips='score', max_testing_views=1)).eval()
    imgs = clips(batch=2, num_clips=3)
    with torch.no_grad():
        scores = model(imgs, return_loss=False)
        cosine = model.encode_video(imgs) @ model.text_branch.class_text_features().t()
    np.testing.assert_allclose(scores, cosine.reshape(2, 3, -1).mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(scores) <= 1 + 1e-6)


def test_feat_ext():
    model = tiny_model(test_cfg=dict(feat_ext=True)).eval()
    with torch.no_grad():
        feat = model(clips(batch=2, num_clips=2), return_loss=False)
    assert feat.shape == (2, 8)


def test_class_features_computed_once_per_eval_pass_and_refreshed_after_training():
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    counter = CallCounter(model.text_encoder)
    model.eval()
    with torch.no_grad():
        first = [model(clips(2, seed=s), return_loss=False) for s in range(3)]
    assert counter.calls == 1
    cached = model.text_branch.class_text_features().clone()

    model.train()
    outputs = model.train_step(dict(imgs=clips(4), label=torch.tensor([0, 1, 2, 3])), optimizer)
    optimizer.zero_grad()
    outputs['loss'].backward()
    optimizer.step()
    model.eval()
    calls = counter.calls
    with torch.no_grad():
        second = [model(clips(2, seed=s), return_loss=False) for s in range(3)]
    assert counter.calls == calls + 1
    assert not torch.allclose(cached, model.text_branch.class_text_features())
    assert not np.allclose(first[0], second[0])


def test_class_features_refreshed_after_load_state_dict():
    model = tiny_model().eval()
    other = tiny_model().eval()
    with torch.no_grad():
        other.text_branch.text_proj.weight.normal_()
        for param in other.text_encoder.parameters():
            param.add_(torch.randn_like(param) * 0.3)
    imgs = clips(2)
    with torch.no_grad():
        before = model(imgs, return_loss=False)
        model.load_state_dict(other.state_dict())
        after = model(imgs, return_loss=False)
        expected = other(imgs, return_loss=False)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-7)


def test_training_steps_lower_the_loss():
    torch.manual_seed(2)
    no_dropout = dict(TINY_BERT, config=dict(TINY_BERT['config'], hidden_dropout_prob=0.0,
                                             attention_probs_dropout_prob=0.0))
    model = tiny_model(text_encoder=no_dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = dict(imgs=clips(6, seed=1), label=torch.tensor([0, 1, 2, 3, 0, 1]))
    losses = [log['loss'] for log in train_log_vars(model, batch, optimizer, 25)]
    assert np.mean(losses[-5:]) < 0.75 * losses[0], losses


def test_frozen_bert_model():
    model = tiny_model(frozen_bert=True)
    model.train()
    assert model.training and model.video_encoder.training
    assert not model.text_encoder.training
    assert all(not p.requires_grad for p in model.text_encoder.parameters())
    out = model(clips(2), torch.tensor([0, 1]))
    out['loss_cls'].backward()
    assert all(p.grad is None for p in model.text_encoder.parameters())
    assert model.text_proj.weight.grad is not None and model.vision_proj.weight.grad is not None
    assert model.temp.grad is not None


def test_init_weights_keeps_the_text_encoder():
    model = tiny_model()
    text_state = {k: v.clone() for k, v in model.text_encoder.state_dict().items()}
    proj = model.vision_proj.weight.clone()
    with torch.no_grad():
        model.temp.fill_(0.3)
    model.init_weights()
    assert all(torch.equal(v, model.text_encoder.state_dict()[k]) for k, v in text_state.items())
    assert not torch.equal(proj, model.vision_proj.weight)
    assert model.temp.item() == pytest.approx(0.07)


def test_state_dict_names_and_paramwise_lr():
    model = tiny_model()
    state = model.state_dict()
    assert 'temp' in state and 'vision_proj.weight' in state
    assert not any('class_input_ids' in k for k in state)
    text_names = [n for n, _ in model.named_parameters() if n.startswith('text_branch.text_encoder.')]
    assert text_names and all('text_encoder' in n for n in text_names)
    optimizer = build_optimizer(model, dict(type='AdamW', lr=1e-3, weight_decay=0.01,
                                            paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.01)})))
    ids = {id(p): n for n, p in model.named_parameters()}
    for group in optimizer.param_groups:
        for param in group['params']:
            expected = 1e-5 if 'text_encoder' in ids[id(param)] else 1e-3
            assert group['lr'] == pytest.approx(expected), ids[id(param)]


def test_plain_resnet_video_encoder():
    model = tiny_model(video_encoder=dict(type='ResNet3dSlowOnly', in_channels=3, base_channels=4, num_stages=2,
                                          stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2),
                                          temporal_strides=(1, 2), inflate=(0, 1))).eval()
    assert model.vision_proj.in_features == 32
    with torch.no_grad():
        assert model.extract_feat(clips(2).reshape(2, 3, 8, 16, 16)).shape == (2, 4, 32)
        assert model(clips(2), return_loss=False).shape == (2, 4)


def test_num_classes_checked_against_the_list():
    with pytest.raises(ValueError, match='lists/ntu60.csv has 60 names but num_classes is 61'):
        tiny_model(text_lists='lists/ntu60.csv', num_classes=61)
    assert tiny_model(text_lists='lists/ntu60.csv', num_classes=60).num_classes == 60


def test_seed_config_with_minilm_weights():
    """The seed's bert-base text encoder dict with the packaged MiniLM weights: sizes come from the weights."""
    text_encoder = dict(
        type='BertModel',
        config=dict(architectures=['BertForMaskedLM'], attention_probs_dropout_prob=0.1, hidden_act='gelu',
                    hidden_dropout_prob=0.1, hidden_size=768, initializer_range=0.02, intermediate_size=3072,
                    layer_norm_eps=1e-12, max_position_embeddings=512, model_type='bert', num_attention_heads=12,
                    num_hidden_layers=12, pad_token_id=0, type_vocab_size=2, vocab_size=30524, encoder_width=768,
                    add_cross_attention=True),
        add_pooling_layer=False)
    video = dict(VIDEO, output_channels=768)
    model = build_model(dict(type='RecognizerVisece', video_encoder=video, text_encoder=text_encoder,
                             embed_dim=256, text_encoder_init='minilm', text_lists='lists/ntu60.csv'))
    assert isinstance(model, RecognizerVisece)
    assert model.text_encoder.hidden_size == 384 and model.text_encoder.config.num_hidden_layers == 6
    assert model.text_encoder.has_cross_attention and model.text_encoder.config.encoder_width == 768
    assert model.text_proj.in_features == 384 and model.text_proj.out_features == 256
    assert model.vision_proj.in_features == 768 and model.num_classes == 60
    model.eval()
    with torch.no_grad():
        scores = model(clips(2), return_loss=False)
        text = model.text_branch.class_text_features()
    assert scores.shape == (2, 60)
    assert torch.allclose(text.norm(dim=1), torch.ones(60), atol=1e-5)
    similarity = text @ text.t()
    assert similarity.fill_diagonal_(-1).max() < 0.9999  # 60 different sentences give 60 different features
