import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from pyskl.models import build_model
from pyskl.models.recognizers import BaseRecognizer, Recognizer3D

NUM_CLASSES = 6


def tiny_model(**kwargs):
    cfg = dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dSlowOnly', base_channels=4, stage_blocks=(1, 1, 1)),
        cls_head=dict(type='I3DHead', in_channels=64, num_classes=NUM_CLASSES, dropout=0),
        test_cfg=dict(average_clips='prob'))
    cfg.update(kwargs)
    return build_model(cfg)


def clips(batch=2, num_clips=1):
    return torch.rand(batch, num_clips, 17, 4, 16, 16)


def test_forward_train_keys():
    losses = tiny_model()(clips(), torch.tensor([1, 4]), return_loss=True)
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'}
    assert losses['loss_cls'].requires_grad


@pytest.mark.parametrize('batch, label', [
    (2, torch.tensor([1, 4])),
    (2, torch.tensor([[1], [4]])),
    (1, torch.tensor([3])),
    (1, torch.tensor([[3]])),
])
def test_label_shapes(batch, label):
    losses = tiny_model()(clips(batch), label)
    assert losses['loss_cls'].dim() == 0 and torch.isfinite(losses['loss_cls'])


def test_labels_repeat_per_clip():
    model = tiny_model().eval()
    imgs = clips(batch=2, num_clips=3)
    label = torch.tensor([[1], [4]])
    with torch.no_grad():
        losses = model.forward_train(imgs, label)
        score = model.cls_head(model.backbone(imgs.reshape(6, 17, 4, 16, 16)))
    expected = F.cross_entropy(score, torch.tensor([1, 1, 1, 4, 4, 4]))
    assert torch.allclose(losses['loss_cls'], expected, atol=1e-6)


def test_label_batch_mismatch():
    with pytest.raises(ValueError, match='label of shape'):
        tiny_model()(clips(2), torch.tensor([1, 2, 3]))


def test_forward_needs_label():
    with pytest.raises(ValueError, match='label'):
        tiny_model()(clips())


def test_forward_test_prob():
    model = tiny_model().eval()
    with torch.no_grad():
        scores = model(clips(batch=3, num_clips=2), return_loss=False)
    assert isinstance(scores, np.ndarray) and scores.shape == (3, NUM_CLASSES)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)


def test_forward_test_wrong_rank():
    with pytest.raises(ValueError, match='NCTHW_Heatmap'):
        tiny_model().eval()(torch.rand(2, 17, 4, 16, 16), return_loss=False)


def test_max_testing_views_and_feat_ext():
    imgs = clips(batch=2, num_clips=3)
    model = tiny_model().eval()
    chunked = tiny_model(test_cfg=dict(average_clips='prob', max_testing_views=2)).eval()
    chunked.load_state_dict(model.state_dict())
    with torch.no_grad():
        np.testing.assert_allclose(chunked(imgs, return_loss=False), model(imgs, return_loss=False), rtol=1e-5)
        feats = tiny_model(test_cfg=dict(feat_ext=True)).eval()(imgs, return_loss=False)
    assert feats.shape == (2, 64)


@pytest.mark.parametrize('mode', ['prob', 'score', None])
def test_average_clip(mode):
    model = tiny_model(test_cfg=dict(average_clips=mode))
    score = torch.randn(2, 3, NUM_CLASSES)
    out = model.average_clip(score, 3)
    flat = model.average_clip(score.reshape(6, NUM_CLASSES), 3)
    if mode is None:
        assert out is score
    elif mode == 'score':
        assert torch.allclose(out, score.mean(dim=1))
        assert torch.allclose(flat, out)
    else:
        assert torch.allclose(out, F.softmax(score, dim=2).mean(dim=1))
        assert torch.allclose(flat, out)


def test_average_clip_errors():
    with pytest.raises(ValueError, match='average_clips'):
        tiny_model(test_cfg=dict(average_clips='max'))
    with pytest.raises(ValueError, match='num_segs'):
        tiny_model().average_clip(torch.randn(5, NUM_CLASSES), 2)


def test_parse_losses_sums_only_losses():
    losses = dict(
        loss_cls=torch.tensor([1.0, 3.0], requires_grad=True),
        loss_aux=[torch.tensor(2.0), torch.tensor([1.0, 1.0])],
        top1_acc=torch.tensor(0.5))
    loss, log_vars = BaseRecognizer._parse_losses(losses)
    assert loss.item() == pytest.approx(2.0 + 2.0 + 1.0)
    assert loss.requires_grad
    assert log_vars == {'loss_cls': 2.0, 'loss_aux': 3.0, 'top1_acc': 0.5, 'loss': 5.0}
    assert all(type(v) is float for v in log_vars.values())


def test_parse_losses_rejects_bare_numbers():
    with pytest.raises(TypeError, match='loss_itm'):
        BaseRecognizer._parse_losses(dict(loss_cls=torch.tensor(1.0), loss_itm=0))
    with pytest.raises(ValueError, match='contains "loss"'):
        BaseRecognizer._parse_losses(dict(top1_acc=torch.tensor(1.0)))


def test_parse_losses_distributed(tmp_path):
    store = dist.FileStore(str(tmp_path / 'store'), 1)
    dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    try:
        loss, log_vars = BaseRecognizer._parse_losses(dict(loss_cls=torch.tensor(1.5), acc=torch.tensor(0.25)))
    finally:
        dist.destroy_process_group()
    assert log_vars == {'loss_cls': 1.5, 'acc': 0.25, 'loss': 1.5}


def test_train_step_backward():
    model = tiny_model()
    outputs = model.train_step(dict(imgs=clips(batch=3), label=torch.tensor([0, 1, 2])), None)
    assert set(outputs) == {'loss', 'log_vars', 'num_samples'}
    assert outputs['num_samples'] == 3
    assert set(outputs['log_vars']) == {'loss_cls', 'top1_acc', 'top5_acc', 'loss'}
    assert all(type(v) is float for v in outputs['log_vars'].values())
    outputs['loss'].backward()
    grad = model.backbone.conv1.conv.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.cls_head.fc_cls.weight.grad.abs().sum() > 0


def test_val_step_has_no_graph():
    outputs = tiny_model().val_step(dict(imgs=clips(), label=torch.tensor([0, 1])), None)
    assert not outputs['loss'].requires_grad
    assert outputs['num_samples'] == 2


def test_train_step_passes_aux_info():
    seen = {}

    class Spy(Recognizer3D):

        def forward_train(self, imgs, label, **kwargs):
            seen.update(kwargs)
            return dict(loss_cls=imgs.sum() * 0)

    model = Spy(backbone=None, train_cfg=dict(aux_info=['extra']))
    model.train_step(dict(imgs=clips(), label=torch.tensor([0, 1]), extra=7, other=8), None)
    assert seen == {'extra': 7}
    with pytest.raises(KeyError, match='aux_info'):
        model.train_step(dict(imgs=clips(), label=torch.tensor([0, 1])), None)


def test_base_without_backbone_or_head():

    class Minimal(BaseRecognizer):

        def __init__(self, dim, **kwargs):
            super().__init__(**kwargs)
            self.proj = torch.nn.Linear(dim, 2)

        def forward_train(self, imgs, label, **kwargs):
            return dict(loss_cls=self.proj(imgs).pow(2).mean())

        def forward_test(self, imgs, **kwargs):
            return self.proj(imgs).detach().numpy()

    model = Minimal(3, test_cfg=dict(average_clips='score'))
    assert model.backbone is None and not model.with_cls_head
    assert model(torch.rand(4, 3), return_loss=False).shape == (4, 2)
    assert model.train_step(dict(imgs=torch.rand(4, 3), label=torch.zeros(4)), None)['num_samples'] == 4
    with pytest.raises(RuntimeError, match='no backbone'):
        model.extract_feat(torch.rand(4, 3))


def test_forward_dummy():
    (score, ) = tiny_model().eval().forward_dummy(clips(batch=2, num_clips=2))
    assert score.shape == (4, NUM_CLASSES)


def test_init_weights_sets_parts():
    model = tiny_model()
    torch.nn.init.constant_(model.cls_head.fc_cls.bias, 3.0)
    torch.nn.init.constant_(model.backbone.conv1.bn.weight, 3.0)
    model.init_weights()
    assert torch.all(model.cls_head.fc_cls.bias == 0)
    assert torch.all(model.backbone.conv1.bn.weight == 1)
