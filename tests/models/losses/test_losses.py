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


def unit_rows(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_momentum_distillation_is_registered_and_matches_a_hand_computation():
    v, t = unit_rows(4, 8, seed=1).requires_grad_(), unit_rows(4, 8, seed=2).requires_grad_()
    v_m, t_m = unit_rows(4, 8, seed=3), unit_rows(4, 8, seed=4)
    labels = torch.tensor([0, 1, 0, 2])
    video_queue, text_queue = unit_rows(3, 8, seed=5), unit_rows(3, 8, seed=6)
    queue_labels = torch.tensor([2, -100, 0])
    temp, alpha = torch.tensor(0.1, requires_grad=True), 0.4
    loss = build_loss(dict(type='MomentumDistillationLoss', loss_weight=0.5))(
        v, t, v_m, t_m, labels, temp, alpha, video_queue=video_queue, video_queue_labels=queue_labels,
        text_queue=text_queue, text_queue_labels=queue_labels)

    def direction(rows, rows_m, cols):
        col_labels = torch.cat([labels, queue_labels])
        same = (labels[:, None] == col_labels[None]).float()
        targets = alpha * F.softmax(rows_m @ cols.t() / 0.1, dim=1) + (1 - alpha) * same / same.sum(1, keepdim=True)
        return -(targets * F.log_softmax(rows @ cols.t() / temp, dim=1)).sum(1).mean()

    expected = (direction(v, v_m, torch.cat([t_m, text_queue])) + direction(t, t_m, torch.cat([v_m, video_queue])))
    torch.testing.assert_close(loss, expected / 2 * 0.5)
    loss.backward()
    assert v.grad.abs().sum() > 0 and t.grad.abs().sum() > 0 and temp.grad is not None


def test_momentum_distillation_without_momentum_or_queue_is_the_contrastive_loss():
    """alpha = 0, momentum features equal to the online ones and no queue: the soft-target contrastive loss."""
    v, t = unit_rows(5, 8, seed=1), unit_rows(5, 8, seed=2)
    labels = torch.tensor([0, 1, 0, 2, 1])
    loss = build_loss(dict(type='MomentumDistillationLoss'))(v, t, v, t, labels, 0.07, 0.0)
    reference = build_loss(dict(type='SoftTargetContrastiveLoss'))(v, t, labels, 0.07)
    torch.testing.assert_close(loss, reference)


def test_momentum_distillation_refuses_mismatched_inputs():
    loss_fn = build_loss(dict(type='MomentumDistillationLoss'))
    v = unit_rows(4, 8)
    with pytest.raises(ValueError, match='one shape'):
        loss_fn(v, v, v[:3], v, torch.arange(4), 0.1, 0.4)
    with pytest.raises(ValueError, match='3 labels for 4 clips'):
        loss_fn(v, v, v, v, torch.arange(3), 0.1, 0.4)
    with pytest.raises(ValueError, match='one label per queued feature'):
        loss_fn(v, v, v, v, torch.arange(4), 0.1, 0.4, video_queue=unit_rows(2, 8), video_queue_labels=None)
    with pytest.raises(ValueError, match='alpha'):
        loss_fn(v, v, v, v, torch.arange(4), 0.1, 1.5)
