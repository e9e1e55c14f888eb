"""RecognizerViseceMo: momentum copies, queues, the distilled contrastive loss, checkpoints; class-subset scoring."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.runner import build_optimizer
from tiny_text_models import clips

from pyskl.models import build_model
from pyskl.models.recognizers import BaseRecognizer, ClassSubsetScoring, RecognizerVisece, restrict_to_classes

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down', 'jump up']
VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
             num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2),
             inflate=(0, 1))
# no dropout: two passes over the same input give the same features
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32, hidden_dropout_prob=0.0,
                                               attention_probs_dropout_prob=0.0))
SEED_PARAMWISE = dict(custom_keys={'video_encoder': dict(lr_mult=10.), 'text_encoder': dict(lr_mult=0.01)})


def tiny_model(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='RecognizerViseceMo', video_encoder=VIDEO, text_encoder=TINY_BERT, text_encoder_init=None,
               text_lists=NAMES, embed_dim=8, queue_size=6, momentum=0.9, alpha=0.4)
    cfg.update(kwargs)
    return build_model(cfg)


def momentum_state(model):
    return {k: v.clone() for k, v in model.state_dict().items() if k.split('.')[0].endswith('_m')}


def train_steps(model, steps, batch=4, lr=1e-2):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    outs = []
    for step in range(steps):
        labels = torch.tensor([(step + i) % len(NAMES) for i in range(batch)])
        out = model(clips(batch, seed=step), labels)
        optimizer.zero_grad()
        out['loss_cls'].backward()
        optimizer.step()
        outs.append(out)
    return outs


def test_forward_train_outputs_and_queues():
    model = tiny_model()
    out = model(clips(), torch.tensor([0, 1, 2, 1]))
    assert set(out) == {'loss_cls', 'temp', 'alpha'}
    assert all(isinstance(v, torch.Tensor) for v in out.values())
    assert out['loss_cls'].requires_grad and torch.isfinite(out['loss_cls'])
    assert out['alpha'].item() == pytest.approx(0.4) and out['temp'].item() == pytest.approx(0.07)
    _, log_vars = model._parse_losses(out)
    assert set(log_vars) == {'loss_cls', 'temp', 'alpha', 'loss'}
    assert model.video_queue.labels().tolist() == [0, 1, 2, 1, -1, -1]
    assert model.text_queue.labels().tolist() == [0, 1, 2, 1, -1, -1]
    assert int(model.num_updates) == 1
    # the queued features are the momentum model's, normalised
    feats, _ = model.video_queue.filled()
    assert torch.allclose(feats.norm(dim=1), torch.ones(4), atol=1e-5)


def test_queue_wraps_when_size_is_not_a_multiple_of_the_batch():
    model = tiny_model()
    train_steps(model, 2)  # 8 entries into 6 slots
    assert int(model.video_queue.ptr) == 2
    # step 0 labels 0 1 2 3, step 1 labels 1 2 3 4: the oldest two (0, 1) were overwritten
    assert model.video_queue.ordered()[1].tolist() == [2, 3, 1, 2, 3, 4]
    assert torch.equal(model.text_queue.labels(), model.video_queue.labels())


def test_momentum_weights_follow_by_ema():
    model = tiny_model(momentum=0.75)
    with torch.no_grad():  # make the copy differ from the online model before the first step
        for name, buf in model.named_buffers():
            if name.startswith('vision_proj_m.'):
                buf.add_(1.0)
    train_steps(model, 1)
    # first step: the copies are set to the online weights (as they were before the optimizer step)
    online_before = {k: v.clone() for k, v in model.state_dict().items()}
    state = momentum_state(model)
    train_steps(model, 1)
    online_now = dict(model.named_parameters())
    after = momentum_state(model)
    pairs = {'vision_proj_m.module.weight': 'vision_proj.weight',
             'text_proj_m.module.bias': 'text_branch.text_proj.bias',
             'video_encoder_m.module.resnet.conv1.conv.weight': 'video_encoder.resnet.conv1.conv.weight',
             'text_encoder_m.module.embeddings.word_embeddings.weight':
             'text_branch.text_encoder.embeddings.word_embeddings.weight'}
    for key, online_key in pairs.items():
        # the second step's EMA used the weights after the first optimizer step
        expected = 0.75 * state[key] + 0.25 * online_before[online_key]
        assert torch.allclose(after[key], expected, atol=1e-6), key
        assert not torch.equal(after[key], online_now[online_key].detach()), key


def test_first_step_copies_the_online_model():
    model = tiny_model()
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.startswith(('video_encoder_m.', 'text_proj_m.')) and buf.is_floating_point():
                buf.normal_()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model(clips(), torch.tensor([0, 1, 2, 3]))
    after = model.state_dict()
    assert torch.equal(after['text_proj_m.module.weight'], state['text_branch.text_proj.weight'])
    assert torch.equal(after['video_encoder_m.module.resnet.conv1.conv.weight'],
                       state['video_encoder.resnet.conv1.conv.weight'])


def test_loss_matches_a_hand_computation_with_the_queue():
    model = tiny_model(alpha=0.3)
    train_steps(model, 1)  # fills 4 of the 6 slots
    reference = copy.deepcopy(model)
    imgs, labels = clips(seed=7), torch.tensor([4, 1, 1, 0])
    out = model(imgs, labels)

    with torch.no_grad():
        v = reference.encode_video(imgs)
        t = reference.text_branch.label_text_features(labels)
        reference.momentum_update()
        v_m = reference.encode_video_momentum(imgs)
        t_m = reference.encode_text_momentum(labels)
        queue_v, queue_v_labels = reference.video_queue.filled()
        queue_t, queue_t_labels = reference.text_queue.filled()
        assert queue_v.shape[0] == 4
        temp = reference.temp
        text_cols, text_labels = torch.cat([t_m, queue_t]), torch.cat([labels, queue_t_labels])
        video_cols, video_labels = torch.cat([v_m, queue_v]), torch.cat([labels, queue_v_labels])

        def targets(rows_m, cols, col_labels):
            same = (labels[:, None] == col_labels[None]).float()
            return 0.3 * torch.softmax(rows_m @ cols.t() / temp, 1) + 0.7 * same / same.sum(1, keepdim=True)

        tv2t, tt2v = targets(v_m, text_cols, text_labels), targets(t_m, video_cols, video_labels)
        assert torch.allclose(tv2t.sum(1), torch.ones(4), atol=1e-6)
        assert torch.allclose(tt2v.sum(1), torch.ones(4), atol=1e-6)
        expected = -((tv2t * F.log_softmax(v @ text_cols.t() / temp, 1)).sum(1).mean() +
                     (tt2v * F.log_softmax(t @ video_cols.t() / temp, 1)).sum(1).mean()) / 2
    assert torch.allclose(out['loss_cls'], expected, atol=1e-5)


def test_empty_slots_are_left_out():
    model = tiny_model(alpha=0.0)
    reference = copy.deepcopy(model)
    imgs, labels = clips(), torch.tensor([0, 1, 0, 2])
    out = model(imgs, labels)
    # empty queue: only the momentum batch features are columns (momentum copy == online model at step 0)
    with torch.no_grad():
        v = reference.encode_video(imgs)
        t = reference.text_branch.label_text_features(labels)
        same = (labels[:, None] == labels[None]).float()
        targets = same / same.sum(1, keepdim=True)
        logits = v @ t.t() / reference.temp
        expected = -((targets * F.log_softmax(logits, 1)).sum(1).mean() +
                     (targets * F.log_softmax(logits.t(), 1)).sum(1).mean()) / 2
    assert torch.allclose(out['loss_cls'], expected, atol=1e-5)


def test_alpha_warmup():
    model = tiny_model(alpha=0.4, alpha_warmup_iters=4)
    alphas = [out['alpha'].item() for out in train_steps(model, 5)]
    assert alphas == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4])


def test_eval_mode_forward_train_changes_no_state():
    model = tiny_model()
    train_steps(model, 1)
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        out = model(clips(seed=3), torch.tensor([1, 2, 3, 4]))
    assert torch.isfinite(out['loss_cls'])
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_momentum_weights_not_in_optimizer_groups():
    model = tiny_model()
    optimizer = build_optimizer(model, dict(type='AdamW', lr=1e-3, weight_decay=0.01, paramwise_cfg=SEED_PARAMWISE))
    in_groups = [p for group in optimizer.param_groups for p in group['params']]
    assert {id(p) for p in in_groups} == {id(p) for p in model.parameters()}
    assert not any(name.split('.')[0].endswith('_m') for name, _ in model.named_parameters())
    momentum_ptrs = {t.data_ptr() for k, t in model.state_dict().items() if k.split('.')[0].endswith('_m')}
    assert len(momentum_ptrs) > 10
    assert not momentum_ptrs & {p.data_ptr() for p in in_groups}
    # the seed's custom keys still reach the online encoders
    lr_of = {id(p): group['lr'] for group in optimizer.param_groups for p in group['params']}
    assert lr_of[id(model.text_encoder.embeddings.word_embeddings.weight)] == pytest.approx(1e-5)
    assert lr_of[id(model.video_encoder.resnet.conv1.conv.weight)] == pytest.approx(1e-2)


def test_checkpoint_saves_and_restores_momentum_state():
    model = tiny_model()
    train_steps(model, 3)
    state = model.state_dict()
    for prefix in ('video_encoder_m.module.', 'vision_proj_m.module.', 'text_encoder_m.module.', 'text_proj_m.module.',
                   'video_queue.', 'text_queue.'):
        assert any(k.startswith(prefix) for k in state), prefix
    fresh = tiny_model()
    assert not torch.equal(fresh.state_dict()['video_queue.feat_labels'], state['video_queue.feat_labels'])
    fresh.load_state_dict(state, strict=True)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert int(fresh.num_updates) == 3


def test_loading_a_visece_checkpoint_starts_the_momentum_model_from_it():
    torch.manual_seed(5)
    visece = build_model(dict(type='RecognizerVisece', video_encoder=VIDEO, text_encoder=TINY_BERT,
                              text_encoder_init=None, text_lists=NAMES, embed_dim=8))
    model = tiny_model()
    train_steps(model, 1)
    result = model.load_state_dict(visece.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    source = visece.state_dict()
    state = model.state_dict()
    assert torch.equal(state['video_encoder_m.module.resnet.conv1.conv.weight'],
                       source['video_encoder.resnet.conv1.conv.weight'])
    assert torch.equal(state['text_encoder_m.module.embeddings.word_embeddings.weight'],
                       source['text_branch.text_encoder.embeddings.word_embeddings.weight'])
    assert len(model.video_queue) == 0 and int(model.num_updates) == 0


def test_frozen_bert_uses_the_online_text_encoder():
    model = tiny_model(frozen_bert=True)
    assert model.text_encoder_m is None
    assert not any(k.startswith('text_encoder_m') for k in model.state_dict())
    before = model.text_encoder.embeddings.word_embeddings.weight.clone()
    train_steps(model, 2)
    assert torch.equal(model.text_encoder.embeddings.word_embeddings.weight, before)
    assert not model.text_encoder.training
    labels = torch.tensor([0, 3])
    with torch.no_grad():
        expected = F.normalize(model.text_proj_m(model.text_encoder(*model.text_branch.class_tokens(labels))
                                                 .last_hidden_state[:, 0]), dim=-1)
    assert torch.allclose(model.encode_text_momentum(labels), expected, atol=1e-6)


def test_forward_test_uses_the_online_model():
    model = tiny_model()
    train_steps(model, 2)
    model.eval()
    imgs = clips(batch=2, num_clips=3)
    with torch.no_grad():
        scores = model(imgs, return_loss=False)
        video = model.encode_video(imgs)
        text = model.text_branch.class_text_features()
        expected = torch.softmax(video @ text.t(), 1).reshape(2, 3, -1).mean(1)
    assert isinstance(scores, np.ndarray) and scores.shape == (2, len(NAMES))
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('kwargs, match', [(dict(momentum=1.0), 'momentum'), (dict(alpha=1.5), 'alpha'),
                                           (dict(queue_size=0), 'queue_size'),
                                           (dict(alpha_warmup_iters=-1), 'alpha_warmup_iters'),
                                           (dict(loss_cls=dict(type='SoftTargetContrastiveLoss',
                                                               gather_distributed=True)), 'gather_distributed')])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_model(**kwargs)


# ------------------------------------------------------------------------------- class-subset (zero-shot) scoring


def test_restrict_to_classes():
    scores = torch.arange(12.).reshape(2, 6)
    out = restrict_to_classes(scores, [1, 4])
    assert torch.equal(out[:, [1, 4]], scores[:, [1, 4]])
    assert torch.isinf(out[:, [0, 2, 3, 5]]).all()
    assert restrict_to_classes(scores, None) is scores
    with pytest.raises(ValueError, match=r'outside \[0, 6\)'):
        restrict_to_classes(scores, [1, 6])
    with pytest.raises(ValueError, match='twice'):
        restrict_to_classes(scores, [1, 1])
    with pytest.raises(TypeError, match='0-based'):
        restrict_to_classes(scores, [1.0])


class _ScoreRecognizer(ClassSubsetScoring, BaseRecognizer):
    """A recognizer whose per-clip scores are its input (imgs [B, num_clips, C])."""

    def forward_train(self, imgs, label, **kwargs):
        return dict(loss=imgs.sum())

    def forward_test(self, imgs, **kwargs):
        return self.average_clip(imgs.reshape(-1, imgs.shape[-1]), imgs.shape[1]).numpy()


@pytest.mark.parametrize('num_clips', [1, 3])
def test_class_subset_scores_are_zero_outside_and_sum_to_one(num_clips):
    logits = torch.randn(4, num_clips, 6, generator=torch.Generator().manual_seed(0)) * 3
    subset = [5, 0, 2]
    scores = _ScoreRecognizer(test_cfg=dict(class_subset=subset))(logits, return_loss=False)
    assert scores.shape == (4, 6)
    assert (scores[:, [1, 3, 4]] == 0).all()
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-6)
    expected = torch.softmax(logits[..., subset], -1).mean(1)
    np.testing.assert_allclose(scores[:, subset], expected.numpy(), rtol=1e-5, atol=1e-7)
    full = _ScoreRecognizer()(logits, return_loss=False)
    np.testing.assert_allclose(full, torch.softmax(logits, -1).mean(1).numpy(), rtol=1e-5, atol=1e-7)


def test_class_subset_with_score_averaging_never_ranks_outside():
    logits = -torch.rand(2, 1, 5)  # all negative similarities: a 0 outside the subset would outrank them
    scores = _ScoreRecognizer(test_cfg=dict(class_subset=[1, 2], average_clips='score'))(logits, return_loss=False)
    assert set(scores.argmax(1).tolist()) <= {1, 2}


def test_text_recognizers_support_class_subset():
    """RecognizerVisece (and every recognizer derived from it) restricts its test scores with test_cfg."""
    assert issubclass(RecognizerVisece, ClassSubsetScoring), \
        'RecognizerVisece must derive from ClassSubsetScoring (pyskl/models/recognizers/zero_shot.py)'
    model = tiny_model(test_cfg=dict(class_subset=[4, 1])).eval()
    with torch.no_grad():
        scores = model(clips(batch=3, num_clips=2), return_loss=False)
    assert (scores[:, [0, 2, 3]] == 0).all()
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-5)
    assert model.class_subset == [4, 1]
