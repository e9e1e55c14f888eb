"""RecognizerVisece as the template of the text recognizers: build everything, then initialise once; subclasses
supply their modules and objective; the momentum branch reuses the video embedding."""
import copy

import pytest
import torch
import torch.nn as nn
from tiny_text_models import clips

from pyskl.models import build_model
from pyskl.models.losses import MomentumDistillationLoss
from pyskl.models.recognizers import (
    Recognizer3D,
    RecognizerVisece,
    RecognizerViseceITM,
    RecognizerViseceMo,
    RecognizerVisecePACL,
)

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
VIDEO_ARGS = dict(res_out_channels=32, in_channels=3, base_channels=4, num_stages=2, stage_blocks=(1, 1),
                  out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))
BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                          intermediate_size=32, hidden_dropout_prob=0.0,
                                          attention_probs_dropout_prob=0.0))
CROSS_BERT = dict(type='BertModel', config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                intermediate_size=64, vocab_size=30524, add_cross_attention=True,
                                                encoder_width=24))
TEXT = dict(text_encoder_init=None, text_lists=NAMES, embed_dim=8)
CONFIGS = {
    RecognizerVisece: dict(video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
                           text_encoder=BERT, **TEXT),
    RecognizerViseceITM: dict(video_encoder=dict(type='Visece_Video', output_channels=24, **VIDEO_ARGS),
                              text_encoder=CROSS_BERT, **TEXT),
    RecognizerViseceMo: dict(video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
                             text_encoder=BERT, queue_size=6, momentum=0.9, **TEXT),
    RecognizerVisecePACL: dict(video_encoder=dict(type='Visece_Video_PACL', **VIDEO_ARGS), text_encoder=BERT, **TEXT),
}


def build(cls, **kwargs):
    cfg = dict(type=cls.__name__, **copy.deepcopy(CONFIGS[cls]))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return build_model(cfg)


@pytest.mark.parametrize('cls', list(CONFIGS), ids=lambda cls: cls.__name__)
def test_every_part_is_built_before_the_single_init_weights(cls, monkeypatch):
    calls = []
    build_extra, init_weights = cls.build_extra_modules, cls.init_weights

    def recording_build(self):
        calls.append('build')
        build_extra(self)

    def recording_init(self):
        calls.append(('init', sorted(name for name, _ in self.named_children())))
        init_weights(self)

    monkeypatch.setattr(cls, 'build_extra_modules', recording_build)
    monkeypatch.setattr(cls, 'init_weights', recording_init)
    model = build(cls)
    assert [c if c == 'build' else c[0] for c in calls] == ['build', 'init']
    assert calls[1][1] == sorted(name for name, _ in model.named_children())  # nothing is added after init


def test_itm_head_is_initialised_by_init_weights():
    model = build(RecognizerViseceITM)
    with torch.no_grad():
        model.itm_head.weight.fill_(3.0)
        model.itm_head.bias.fill_(3.0)
    model.init_weights()
    assert model.itm_head.bias.abs().max() == 0  # proj_init='normal': zero bias, normal(0, 32**-0.5) weights
    assert model.itm_head.weight.abs().max() < 3.0 and model.itm_head.weight.std() > 0


def test_the_momentum_branch_reuses_the_video_embedding():
    model = build(RecognizerViseceMo).eval()
    imgs = clips(3, 2, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(model.encode_video_momentum(imgs), model.encode_video(imgs), rtol=0, atol=0)
        model.vision_proj.weight.mul_(-1.0)  # the online model moves, the momentum copy does not
        online = model.encode_video(imgs)
        momentum = model.encode_video_momentum(imgs)
        via_copies = model.encode_video(imgs, model.video_encoder_m, model.vision_proj_m)
    assert not torch.allclose(online, momentum)
    torch.testing.assert_close(momentum, via_copies, rtol=0, atol=0)
    assert momentum.shape == (6, 8) and torch.allclose(momentum.norm(dim=1), torch.ones(6))


def test_momentum_loss_cls_is_the_registered_distillation_loss():
    assert isinstance(build(RecognizerViseceMo).loss_cls, MomentumDistillationLoss)
    converted = build(RecognizerViseceMo, loss_cls=dict(type='SoftTargetContrastiveLoss', loss_weight=0.5))
    assert isinstance(converted.loss_cls, MomentumDistillationLoss) and converted.loss_cls.loss_weight == 0.5
    with pytest.raises(TypeError, match='MomentumDistillationLoss'):
        build(RecognizerViseceMo, loss_cls=dict(type='CrossEntropyLoss'))


def test_a_new_recognizer_supplies_only_its_modules_and_objective():

    class WithAuxiliaryHead(RecognizerVisece):

        def build_extra_modules(self):
            self.aux_head = nn.Linear(self.embed_dim, self.num_classes)

        def init_weights(self):
            super().init_weights()
            nn.init.zeros_(self.aux_head.weight)
            nn.init.zeros_(self.aux_head.bias)

        def objective(self, imgs, frames, labels):
            losses = super().objective(imgs, frames, labels)
            logits = self.aux_head(self.embed_video(frames))
            losses['loss_aux'] = nn.functional.cross_entropy(logits, labels)
            return losses

    torch.manual_seed(0)
    model = WithAuxiliaryHead(**copy.deepcopy(CONFIGS[RecognizerVisece]))
    assert model.aux_head.weight.abs().sum() == 0  # init_weights ran after the head existed
    out = model(clips(4, 2), torch.tensor([0, 1, 2, 3]))
    assert set(out) == {'loss_cls', 'loss_aux', 'temp'}
    torch.testing.assert_close(out['loss_aux'], torch.log(torch.tensor(4.0)))  # zero head: uniform over 4 classes


@pytest.mark.parametrize('model', [
    lambda: build(RecognizerVisecePACL),
    lambda: build_model(dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', base_channels=4,
                                                                stage_blocks=(1, 1, 1)),
                             cls_head=dict(type='I3DHead', in_channels=64, num_classes=6, dropout=0))),
], ids=['text', '3d'])
def test_the_shared_input_checks_name_the_recognizer(model):
    model = model()
    name = type(model).__name__
    with pytest.raises(ValueError, match=f'{name} expects imgs of shape'):
        model(torch.rand(2, 3, 8, 16, 16), torch.tensor([0, 1]))
    channels = 3 if isinstance(model, RecognizerVisecePACL) else 17
    with pytest.raises(ValueError, match=rf'{name}: label of shape \(3,\) does not match the batch of 2'):
        model(torch.rand(2, 1, channels, 8, 16, 16), torch.tensor([0, 1, 2]))
    assert not isinstance(model, Recognizer3D) or model._clip_labels(torch.tensor([[1], [4]]), 2, 3).tolist() == \
        [1, 1, 1, 4, 4, 4]
