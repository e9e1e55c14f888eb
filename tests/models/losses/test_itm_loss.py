import pytest
import torch
import torch.nn.functional as F

from pyskl.models import build_loss
from pyskl.models.losses import HardNegativeSampler, ITMLoss


def test_negatives_never_share_the_anchor_label():
    sampler = HardNegativeSampler()
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        batch = int(torch.randint(2, 12, (1, ), generator=gen))
        labels = torch.randint(0, 4, (batch, ), generator=gen)
        # a large scale makes the same-label entries the most similar ones: they must still never be drawn
        similarity = torch.randn(batch, batch, generator=gen) * 20 + (labels[:, None] == labels[None]) * 50.0
        indices, valid = sampler(similarity, labels, labels, generator=gen)
        assert indices.shape == valid.shape == (batch, ) and indices.dtype == torch.long
        assert torch.equal(valid, (labels[:, None] != labels[None]).any(dim=1))
        assert ((indices >= 0) & (indices < batch)).all()
        assert (labels[indices][valid] != labels[valid]).all()


def test_rows_and_columns_with_different_labels():
    sampler = HardNegativeSampler()
    row_labels, col_labels = torch.tensor([0, 1, 2]), torch.tensor([0, 0, 1, 1, 1])
    indices, valid = sampler(torch.randn(3, 5), row_labels, col_labels, generator=torch.Generator().manual_seed(1))
    assert valid.all()
    assert (col_labels[indices] != row_labels).all()
    assert indices[0] in (2, 3, 4) and indices[1] in (0, 1)


def test_single_label_rows_are_invalid():
    sampler = HardNegativeSampler()
    labels = torch.tensor([3, 3, 3, 3])
    indices, valid = sampler(torch.randn(4, 4), labels, labels)
    assert not valid.any()
    assert ((indices >= 0) & (indices < 4)).all()


def test_sampling_follows_the_softmax_of_the_similarity():
    """Empirical frequencies of 40000 draws of one row match softmax(similarity) over the other-label columns."""
    sampler = HardNegativeSampler()
    similarity_row = torch.tensor([3.0, 0.5, 1.0, -1.0, 2.0, 0.0])
    col_labels = torch.tensor([0, 1, 2, 2, 3, 0])
    draws = 40000
    similarity = similarity_row.repeat(draws, 1)
    indices, valid = sampler(similarity, torch.zeros(draws, dtype=torch.long), col_labels,
                             generator=torch.Generator().manual_seed(123))
    assert valid.all()
    frequency = torch.bincount(indices, minlength=6).float() / draws
    expected = F.softmax(similarity_row.masked_fill(col_labels == 0, float('-inf')), dim=0)
    assert frequency[0] == 0 and frequency[5] == 0  # the anchor's label
    # 4 standard deviations of a binomial proportion: a wrong distribution (e.g. uniform) is far outside
    tolerance = 4 * torch.sqrt(expected * (1 - expected) / draws) + 1e-6
    assert ((frequency - expected).abs() <= tolerance).all(), (frequency, expected)
    uniform = (col_labels != 0).float() / (col_labels != 0).sum()
    assert (frequency - uniform).abs().max() > 0.1


def test_sampling_ignores_gradients_and_is_seeded():
    sampler = HardNegativeSampler()
    similarity = torch.randn(6, 6, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    first, _ = sampler(similarity, labels, labels, generator=torch.Generator().manual_seed(5))
    second, _ = sampler(similarity, labels, labels, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, second) and not first.requires_grad


def test_sampler_shape_errors():
    sampler = HardNegativeSampler()
    with pytest.raises(ValueError, match=r'\[B, N\] similarity'):
        sampler(torch.randn(4), torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match='3 row labels'):
        sampler(torch.randn(4, 5), torch.zeros(3), torch.zeros(5))


def test_itm_loss_is_the_cross_entropy_of_the_pairs():
    loss_fn = build_loss(dict(type='ITMLoss', loss_weight=0.5))
    logits = torch.randn(9, 2, requires_grad=True)
    labels = ITMLoss.get_labels(3, 6)
    assert labels.tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0]
    loss, accuracy = loss_fn(logits, labels)
    assert torch.allclose(loss, 0.5 * F.cross_entropy(logits, labels))
    assert accuracy == pytest.approx((logits.argmax(1) == labels).float().mean().item())
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_itm_loss_weights_drop_pairs():
    loss_fn = ITMLoss()
    logits = torch.randn(6, 2)
    labels = ITMLoss.get_labels(2, 4)
    weight = torch.tensor([1, 1, 0, 1, 0, 1], dtype=torch.bool)
    loss, accuracy = loss_fn(logits, labels, weight)
    assert torch.allclose(loss, F.cross_entropy(logits[weight], labels[weight]))
    assert accuracy == pytest.approx((logits[weight].argmax(1) == labels[weight]).float().mean().item())


def test_itm_loss_with_no_pair_is_zero_with_a_graph():
    logits = torch.randn(4, 2, requires_grad=True)
    loss, accuracy = ITMLoss()(logits, ITMLoss.get_labels(2, 2), torch.zeros(4))
    assert loss.item() == 0 and accuracy.item() == 0 and loss.requires_grad
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(4, 2))


def test_itm_loss_errors():
    with pytest.raises(ValueError, match=r'two-way logits \[P, 2\]'):
        ITMLoss()(torch.randn(4, 3), torch.zeros(4))
    with pytest.raises(ValueError, match='3 labels for 4 pairs'):
        ITMLoss()(torch.randn(4, 2), torch.zeros(3))
    with pytest.raises(ValueError, match='2 weights for 4 pairs'):
        ITMLoss()(torch.randn(4, 2), torch.zeros(4), torch.ones(2))
