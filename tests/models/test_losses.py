import pytest
import torch
import torch.nn.functional as F

from pyskl.models import build_loss
from pyskl.models.losses import BaseWeightedLoss


def test_hard_labels_match_torch():
    score = torch.randn(4, 6)
    label = torch.tensor([0, 5, 2, 2])
    loss = build_loss(dict(type='CrossEntropyLoss'))(score, label)
    assert torch.allclose(loss, F.cross_entropy(score, label))
    weighted = build_loss(dict(type='CrossEntropyLoss', loss_weight=2.5))(score, label)
    assert torch.allclose(weighted, 2.5 * F.cross_entropy(score, label))


def test_soft_labels():
    score = torch.randn(3, 5)
    target = torch.softmax(torch.randn(3, 5), dim=1)
    loss = build_loss(dict(type='CrossEntropyLoss'))(score, target)
    expected = -(target * F.log_softmax(score, dim=1)).sum(dim=1).mean()
    assert torch.allclose(loss, expected)


def test_soft_one_hot_equals_hard_with_class_weight():
    score = torch.randn(4, 3)
    label = torch.tensor([0, 1, 2, 1])
    weight = [0.5, 2.0, 1.0]
    loss_fn = build_loss(dict(type='CrossEntropyLoss', class_weight=weight))
    hard = loss_fn(score, label)
    soft = loss_fn(score, F.one_hot(label, 3).float())
    expected = F.cross_entropy(score, label, weight=torch.tensor(weight))
    assert torch.allclose(hard, expected)
    assert torch.allclose(soft, expected)


def test_class_weight_is_not_saved():
    loss_fn = build_loss(dict(type='CrossEntropyLoss', class_weight=[1.0, 2.0]))
    assert 'class_weight' not in loss_fn.state_dict()


def test_bad_shapes():
    loss_fn = build_loss(dict(type='CrossEntropyLoss'))
    with pytest.raises(ValueError, match='label of shape'):
        loss_fn(torch.randn(4, 3), torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match='class_weight'):
        build_loss(dict(type='CrossEntropyLoss', class_weight=[1.0]))(torch.randn(2, 3), torch.tensor([0, 1]))


def test_weighted_dict_scales_only_losses():

    class Pair(BaseWeightedLoss):

        def _forward(self, x):
            return dict(loss_a=x.sum(), acc=x.mean())

    out = Pair(loss_weight=3.0)(torch.ones(4))
    assert out['loss_a'].item() == 12.0
    assert out['acc'].item() == 1.0
