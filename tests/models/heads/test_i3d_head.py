import pytest
import torch
import torch.nn.functional as F

from pyskl.models import build_head


def head(**kwargs):
    cfg = dict(type='I3DHead', num_classes=6, in_channels=8)
    cfg.update(kwargs)
    return build_head(cfg)


def test_forward_shape_and_names():
    model = head()
    assert model(torch.rand(3, 8, 2, 3, 3)).shape == (3, 6)
    assert sorted(model.state_dict()) == ['fc_cls.bias', 'fc_cls.weight']
    pooled = head(spatial_type=None)
    assert pooled(torch.rand(3, 8)).shape == (3, 6)


def test_forward_is_pool_then_linear_in_eval():
    model = head().eval()
    x = torch.rand(2, 8, 2, 3, 3)
    expected = F.linear(x.mean(dim=(2, 3, 4)), model.fc_cls.weight, model.fc_cls.bias)
    assert torch.allclose(model(x), expected, atol=1e-6)


def test_dropout_alias():
    assert head(dropout=0.2).dropout.p == 0.2
    assert head(dropout_ratio=0.3).dropout.p == 0.3
    assert head(dropout_ratio=0).dropout is None
    with pytest.raises(ValueError, match='dropout'):
        head(dropout=0.2, dropout_ratio=0.3)


def test_wrong_in_channels():
    with pytest.raises(ValueError, match='in_channels'):
        head()(torch.rand(2, 4, 1, 1, 1))


def test_init_weights():
    model = head(in_channels=2000, num_classes=50, init_std=0.02)
    torch.nn.init.constant_(model.fc_cls.bias, 1.0)
    model.init_weights()
    assert torch.all(model.fc_cls.bias == 0)
    assert abs(model.fc_cls.weight.std().item() - 0.02) < 0.002


def test_loss_and_accuracy():
    model = head()
    score = torch.zeros(4, 6)
    score[:, 0] = torch.tensor([9.0, 1.0, 1.0, 1.0])   # ranks: sample 0 top-1 is 0
    score[1, 3] = 5.0                                   # sample 1 top-1 is 3
    score[2, 1:6] = torch.tensor([2.0, 3.0, 4.0, 5.0, 6.0])  # sample 2: class 0 ranks 6th
    score[3, 2] = 0.5                                   # sample 3: class 2 ranks 2nd
    label = torch.tensor([0, 3, 0, 2])
    losses = model.loss(score, label)
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'}
    assert torch.allclose(losses['loss_cls'], F.cross_entropy(score, label))
    assert losses['top1_acc'].item() == pytest.approx(0.5)
    assert losses['top5_acc'].item() == pytest.approx(0.75)


def test_few_classes_skip_top5():
    model = head(num_classes=3)
    losses = model.loss(torch.randn(2, 3), torch.tensor([0, 2]))
    assert 'top1_acc' in losses and 'top5_acc' not in losses


@pytest.mark.parametrize('label', [torch.tensor([2]), torch.tensor([[2]]), torch.tensor(2)])
def test_batch_of_one(label):
    losses = head().loss(torch.randn(1, 6), label)
    assert losses['loss_cls'].dim() == 0
    assert losses['top1_acc'].dim() == 0


def test_soft_labels_have_no_accuracy():
    model = head()
    target = torch.softmax(torch.randn(2, 6), dim=1)
    losses = model.loss(torch.randn(2, 6), target)
    assert set(losses) == {'loss_cls'}


def test_label_batch_mismatch():
    with pytest.raises(ValueError, match='does not match'):
        head().loss(torch.randn(3, 6), torch.tensor([0, 1]))
