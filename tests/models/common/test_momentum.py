"""MomentumCopy (EMA), FeatureQueue (FIFO with wrap-around) and the distilled targets."""
import collections

import pytest
import torch
import torch.nn as nn

from pyskl.models.common import FeatureQueue, MomentumCopy, distillation_targets


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def set_params(module, value):
    with torch.no_grad():
        for param in module.parameters():
            param.fill_(value)


# ---------------------------------------------------------------------------------------------------- MomentumCopy


def test_ema_arithmetic_is_exact():
    online = nn.Linear(2, 2)
    set_params(online, 4.0)
    ema = MomentumCopy(online, momentum=0.75)
    set_params(online, 8.0)
    ema.update(online)  # 0.75 * 4 + 0.25 * 8 = 5
    assert torch.equal(ema.module.weight, torch.full((2, 2), 5.0))
    set_params(online, -3.0)
    ema.update(online)  # 0.75 * 5 + 0.25 * -3 = 3
    assert torch.equal(ema.module.bias, torch.full((2, ), 3.0))
    ema.update(online, momentum=0.5)  # 0.5 * 3 + 0.5 * -3 = 0
    assert torch.equal(ema.module.weight, torch.zeros(2, 2))


def test_ema_against_a_hand_computation_on_random_weights():
    online = small_net()
    ema = MomentumCopy(online, momentum=0.9)
    before = {name: t.clone() for name, t in ema.module.state_dict().items()}
    with torch.no_grad():
        for param in online.parameters():
            param.add_(torch.randn_like(param))
    ema.update(online)
    for name, param in online.named_parameters():
        expected = 0.9 * before[name] + 0.1 * param.detach()
        assert torch.allclose(ema.module.state_dict()[name], expected, atol=1e-6), name


def test_copy_is_frozen_buffers_not_parameters():
    online = small_net()
    ema = MomentumCopy(online)
    assert list(ema.parameters()) == []
    names = set(ema.state_dict())
    for name, param in online.named_parameters():
        assert f'module.{name}' in names
        copy = ema.state_dict()[f'module.{name}']
        assert not copy.requires_grad
        assert torch.equal(copy, param.detach())
        assert copy.data_ptr() != param.data_ptr()
    # the online module is untouched
    assert len(list(online.parameters())) == 6
    out = ema(torch.randn(5, 3))
    assert out.shape == (5, 2) and not out.requires_grad


def test_buffers_follow_the_online_module():
    online = small_net()
    ema = MomentumCopy(online, momentum=0.5)
    online.train()
    online(torch.randn(8, 3) * 3 + 1)  # changes BatchNorm running statistics
    ema.update(online)
    assert torch.equal(ema.module[1].running_mean, online[1].running_mean)
    assert torch.equal(ema.module[1].running_var, online[1].running_var)
    assert int(ema.module[1].num_batches_tracked) == 1


def test_copy_from_and_state_dict_round_trip():
    online = small_net()
    ema = MomentumCopy(online, momentum=0.99)
    set_params(online, 0.5)
    ema.copy_from(online)
    assert all(torch.equal(t, torch.full_like(t, 0.5)) for n, t in ema.module.state_dict().items()
               if n in dict(online.named_parameters()))
    fresh = MomentumCopy(small_net(), momentum=0.99)
    fresh.load_state_dict(ema.state_dict())
    for name, value in ema.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name


def test_dtype_move_keeps_updating():
    online = nn.Linear(2, 2)
    set_params(online, 2.0)
    ema = MomentumCopy(online, momentum=0.5).double()
    set_params(online, 4.0)
    ema.update(online)
    assert ema.module.weight.dtype == torch.float64
    assert torch.equal(ema.module.weight, torch.full((2, 2), 3.0, dtype=torch.float64))


def test_shared_parameters_stay_shared():
    online = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    online[1].weight = online[0].weight
    set_params(online, 1.0)
    ema = MomentumCopy(online, momentum=0.5)
    assert ema.module[0].weight is ema.module[1].weight
    set_params(online, 3.0)
    ema.update(online)
    assert torch.equal(ema.module[1].weight, torch.full((2, 2), 2.0))


def test_update_with_another_module_fails():
    ema = MomentumCopy(nn.Linear(2, 2))
    with pytest.raises(ValueError, match='pass the module it was built from'):
        ema.update(nn.Conv1d(2, 2, 1, bias=False))


@pytest.mark.parametrize('momentum', [1.0, -0.1])
def test_momentum_range(momentum):
    with pytest.raises(ValueError, match='momentum'):
        MomentumCopy(nn.Linear(2, 2), momentum=momentum)


# ---------------------------------------------------------------------------------------------------- FeatureQueue


def rows(values):
    values = torch.as_tensor(values, dtype=torch.float32)
    return values[:, None].repeat(1, 2), values.long()


def test_queue_fifo_order_and_wrap_around():
    queue = FeatureQueue(size=5, dim=2)
    assert len(queue) == 0 and queue.labels().tolist() == [-1] * 5
    queue.enqueue(*rows([0, 1, 2]))
    assert queue.labels().tolist() == [0, 1, 2, -1, -1] and int(queue.ptr) == 3
    feats, labels = queue.filled()
    assert labels.tolist() == [0, 1, 2] and feats[:, 0].tolist() == [0, 1, 2]
    queue.enqueue(*rows([3, 4, 5]))  # 5 wraps around into slot 0, overwriting the oldest entry
    assert queue.labels().tolist() == [5, 1, 2, 3, 4] and int(queue.ptr) == 1
    assert queue.features()[:, 1].tolist() == [5, 1, 2, 3, 4]
    assert queue.ordered()[1].tolist() == [1, 2, 3, 4, 5]
    queue.enqueue(*rows([6, 7, 8, 9, 10, 11, 12]))  # more than the queue holds: the last 5 stay
    assert queue.ordered()[1].tolist() == [8, 9, 10, 11, 12]
    assert len(queue) == 5


@pytest.mark.parametrize('size, batches', [(7, [3, 3, 3, 3]), (4, [1, 2, 5, 3]), (10, [4, 4, 4, 1, 9]), (3, [0, 2])])
def test_queue_matches_a_reference_fifo(size, batches):
    queue = FeatureQueue(size=size, dim=3)
    reference = collections.deque(maxlen=size)
    counter = 0
    for num in batches:
        labels = torch.arange(counter, counter + num)
        feats = torch.randn(num, 3)
        queue.enqueue(feats, labels)
        reference.extend(zip(labels.tolist(), feats))
        counter += num
        feats_q, labels_q = queue.ordered()
        assert labels_q.tolist() == [label for label, _ in reference]
        if reference:
            assert torch.equal(feats_q, torch.stack([f for _, f in reference]))


def test_queue_state_dict_round_trip_and_reset():
    queue = FeatureQueue(size=4, dim=2)
    queue.enqueue(*rows([1, 2, 3]))
    restored = FeatureQueue(size=4, dim=2)
    restored.load_state_dict(queue.state_dict())
    assert set(queue.state_dict()) == {'feats', 'feat_labels', 'ptr'}
    assert restored.labels().tolist() == [1, 2, 3, -1] and int(restored.ptr) == 3
    restored.reset()
    assert len(restored) == 0 and int(restored.ptr) == 0


def test_queue_input_errors():
    queue = FeatureQueue(size=4, dim=2)
    with pytest.raises(ValueError, match=r'feats \[N, 2\]'):
        queue.enqueue(torch.zeros(3, 5), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match='>= 0'):
        queue.enqueue(torch.zeros(1, 2), torch.tensor([-1]))
    with pytest.raises(ValueError, match='positive'):
        FeatureQueue(size=0, dim=2)


# ---------------------------------------------------------------------------------------------------- targets


@pytest.mark.parametrize('alpha', [0.0, 0.4, 1.0])
def test_distillation_targets(alpha):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 7, generator=gen) * 5
    labels, columns = torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 1, 2, 0, 3, 1])
    mask = (labels[:, None] == columns[None]).float()
    label_targets = mask / mask.sum(1, keepdim=True)
    targets = distillation_targets(logits, label_targets, alpha)
    assert torch.allclose(targets.sum(1), torch.ones(4), atol=1e-6)
    expected = alpha * torch.softmax(logits, 1) + (1 - alpha) * label_targets
    assert torch.allclose(targets, expected, atol=1e-7)
    if alpha == 0.0:
        assert torch.equal(targets, label_targets)


def test_distillation_targets_errors():
    with pytest.raises(ValueError, match='differ in shape'):
        distillation_targets(torch.zeros(2, 3), torch.zeros(2, 4), 0.4)
    with pytest.raises(ValueError, match='alpha'):
        distillation_targets(torch.zeros(2, 3), torch.zeros(2, 3), 1.5)
