import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_text_models import clips, train_log_vars

from pyskl.models import build_model
from pyskl.models.common import FrameTextAlignment
from pyskl.models.losses import CrossEntropyLoss, SoftTargetContrastiveLoss
from pyskl.models.recognizers import RecognizerVisecePACL, ResidualMLPEmbedder

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down', 'jump up']
VIDEO = dict(type='Visece_Video_PACL', res_out_channels=32, in_channels=3, base_channels=4, num_stages=2,
             stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))
BERT_CONFIG = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                   vocab_size=30524)
TINY_BERT = dict(type='BertModel', config=BERT_CONFIG)


def tiny_model(**kwargs):
    cfg = dict(type='RecognizerVisecePACL', video_encoder=VIDEO, text_encoder=TINY_BERT, text_encoder_init=None,
               text_lists=NAMES, embed_dim=8)
    cfg.update(kwargs)
    return build_model(cfg)


def test_defaults_are_the_seed_best_setting():
    model = tiny_model()
    assert isinstance(model, RecognizerVisecePACL)
    assert isinstance(model.vision_proj, ResidualMLPEmbedder)
    assert model.vision_proj.fc1.in_features == 32 and model.vision_proj.fc2.out_features == 8
    assert isinstance(model.alignment, FrameTextAlignment)
    assert (model.alignment.weight_fn, model.alignment.weight_on, model.train_mode) == ('softmax', 'raw', 'all_class')
    assert isinstance(model.loss_cls, CrossEntropyLoss)
    assert isinstance(tiny_model(train_mode='pairwise').loss_cls, SoftTargetContrastiveLoss)
    options = tiny_model(weight_fn='sigmoid', weight_on='normalized').alignment
    assert (options.weight_fn, options.weight_on) == ('sigmoid', 'normalized')


def test_frame_embeddings_shape():
    model = tiny_model().eval()
    imgs = clips(batch=2, num_clips=3)
    with torch.no_grad():
        frames = model.frame_embeddings(imgs)
        expected = model.vision_proj(model.video_encoder(imgs.reshape(6, 3, 8, 16, 16)))
    assert frames.shape == (6, 4, 8) and torch.allclose(frames, expected)


@pytest.mark.parametrize('weight_fn', ['softmax', 'sigmoid'])
@pytest.mark.parametrize('weight_on', ['raw', 'normalized'])
def test_all_class_loss_is_cross_entropy_over_the_aligned_scores(weight_fn, weight_on):
    model = tiny_model(weight_fn=weight_fn, weight_on=weight_on).eval()
    imgs, labels = clips(), torch.tensor([0, 4, 2, 0])
    with torch.no_grad():
        out = model.forward_train(imgs, labels)
        frames = model.frame_embeddings(imgs)
        text = model.text_branch.encode_text(model.text_branch.class_input_ids, model.text_branch.class_attention_mask)
        scores = FrameTextAlignment(weight_fn, weight_on)(frames, text)
        expected = F.cross_entropy(scores / model.temp, labels)
    assert set(out) == {'loss_cls', 'temp'}
    assert torch.allclose(out['loss_cls'], expected, atol=1e-5)


def test_pairwise_loss_contrasts_the_own_sentence_pooling():
    model = tiny_model(train_mode='pairwise').eval()
    imgs, labels = clips(), torch.tensor([1, 3, 1, 2])
    with torch.no_grad():
        out = model.forward_train(imgs, labels)
        frames = model.frame_embeddings(imgs)
        text = model.text_branch.encode_text(*model.text_branch.class_tokens(labels))
        video = model.alignment.pool_pairs(frames, text)
        logits = video @ text.t() / model.temp
        mask = (labels[:, None] == labels[None]).float()
        targets = mask / mask.sum(1, keepdim=True)
        expected = -((targets * F.log_softmax(logits, 1)).sum(1).mean() +
                     (targets * F.log_softmax(logits.t(), 1)).sum(1).mean()) / 2
    assert torch.allclose(out['loss_cls'], expected, atol=1e-5)


@pytest.mark.parametrize('train_mode', ['all_class', 'pairwise'])
def test_gradients_reach_every_part(train_mode):
    model = tiny_model(train_mode=train_mode)
    out = model(clips(batch=2, num_clips=2), torch.tensor([[1], [3]]))
    out['loss_cls'].backward()
    assert all(param.grad is not None for param in model.parameters())
    # (the ResNet's residual branches start with zero-initialised BN and pass no gradient at the first step)
    parts = ('video_encoder.resnet.conv1.', 'vision_proj.', 'text_branch.text_proj.', 'text_branch.text_encoder.',
             'temp')
    for part in parts:
        grads = [p.grad.abs().sum() for n, p in model.named_parameters() if n.startswith(part)]
        assert grads and sum(grads) > 0, part


def test_forward_test_is_the_softmax_of_the_class_scores_averaged_over_clips():
    model = tiny_model().eval()
    imgs = clips(batch=3, num_clips=2)
    with torch.no_grad():
        scores = model(imgs, return_loss=False)
        aligned = model.alignment(model.frame_embeddings(imgs), model.text_branch.class_text_features())
    expected = F.softmax(aligned, dim=1).reshape(3, 2, 5).mean(dim=1)
    assert isinstance(scores, np.ndarray) and scores.shape == (3, 5)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-5, atol=1e-7)
    chunked = tiny_model(test_cfg=dict(max_testing_views=1)).eval()
    chunked.load_state_dict(model.state_dict())
    with torch.no_grad():
        np.testing.assert_allclose(chunked(imgs, return_loss=False), scores, rtol=1e-5, atol=1e-7)


def test_feat_ext():
    model = tiny_model(test_cfg=dict(feat_ext=True)).eval()
    with torch.no_grad():
        feat = model(clips(batch=2, num_clips=2), return_loss=False)
    assert feat.shape == (2, 8)


def test_training_steps_lower_the_loss():
    torch.manual_seed(2)
    no_dropout = dict(TINY_BERT, config=dict(BERT_CONFIG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    model = tiny_model(text_encoder=no_dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = dict(imgs=clips(6, seed=1), label=torch.tensor([0, 1, 2, 3, 4, 1]))
    losses = [log['loss'] for log in train_log_vars(model, batch, optimizer, 20)]
    assert np.mean(losses[-5:]) < 0.5 * losses[0], losses


def test_frozen_bert():
    model = tiny_model(frozen_bert=True)
    model.train()
    assert not model.text_encoder.training
    model(clips(2), torch.tensor([0, 1]))['loss_cls'].backward()
    assert all(p.grad is None for p in model.text_encoder.parameters())
    assert model.text_proj.weight.grad is not None and model.vision_proj.fc1.weight.grad is not None


def test_bad_options():
    with pytest.raises(ValueError, match='train_mode'):
        tiny_model(train_mode='both')
    with pytest.raises(ValueError, match='weight_fn'):
        tiny_model(weight_fn='relu')
    with pytest.raises(TypeError, match='proj_mode'):
        tiny_model(proj_mode='pool')
