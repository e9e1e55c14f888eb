import math
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from pyskl.models import build_loss
from pyskl.models.losses import SoftTargetContrastiveLoss, soft_target_cross_entropy


def naive_loss(video, text, labels, temp, text_labels=None):
    """Python-loop reference: both directions, same-label targets normalised per row."""
    text_labels = labels if text_labels is None else text_labels
    video, text = video.tolist(), text.tolist()
    labels, text_labels = labels.tolist(), text_labels.tolist()

    def direction(rows, cols, row_labels, col_labels):
        total = 0.0
        for i, row in enumerate(rows):
            logits = [sum(a * b for a, b in zip(row, col)) / temp for col in cols]
            top = max(logits)
            log_norm = top + math.log(sum(math.exp(v - top) for v in logits))
            positives = [j for j, lab in enumerate(col_labels) if lab == row_labels[i]]
            if positives:
                total += -sum(logits[j] - log_norm for j in positives) / len(positives)
        return total / len(rows)

    return (direction(video, text, labels, text_labels) + direction(text, video, text_labels, labels)) / 2


def random_feats(rows, dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(rows, dim, generator=gen, dtype=torch.float64), dim=1)


@pytest.mark.parametrize('labels', [[0, 1, 2, 3, 4], [0, 1, 0, 2, 1], [3, 3, 3, 3, 3]])
@pytest.mark.parametrize('temp', [0.07, 0.5])
def test_matches_naive_loop(labels, temp):
    video, text = random_feats(5, seed=1), random_feats(5, seed=2)
    labels = torch.tensor(labels)
    loss = SoftTargetContrastiveLoss()(video, text, labels, temp)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(naive_loss(video, text, labels, temp), rel=1e-9)


def test_text_labels_with_more_sentences_than_clips():
    video, text = random_feats(3, seed=3), random_feats(5, seed=4)
    labels, text_labels = torch.tensor([0, 1, 0]), torch.tensor([0, 1, 2, 0, 1])
    loss = SoftTargetContrastiveLoss()(video, text, labels, 0.1, text_labels=text_labels)
    assert loss.item() == pytest.approx(naive_loss(video, text, labels, 0.1, text_labels), rel=1e-9)


def test_distinct_labels_reduce_to_clip_loss():
    video, text = random_feats(4, seed=5), random_feats(4, seed=6)
    logits = video @ text.t() / 0.05
    target = torch.arange(4)
    clip = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
    loss = SoftTargetContrastiveLoss()(video, text, torch.tensor([7, 2, 5, 0]), 0.05)
    assert torch.allclose(loss, clip)


def test_get_targets_rows_sum_to_one():
    targets = SoftTargetContrastiveLoss.get_targets(torch.tensor([0, 1, 0]), torch.tensor([0, 0, 1, 2]))
    expected = torch.tensor([[0.5, 0.5, 0, 0], [0, 0, 1, 0], [0.5, 0.5, 0, 0]])
    assert torch.equal(targets, expected)
    # a row without any positive stays zero instead of dividing by zero
    empty = SoftTargetContrastiveLoss.get_targets(torch.tensor([5]), torch.tensor([0, 1]))
    assert torch.equal(empty, torch.zeros(1, 2))


def test_get_logits():
    a, b = random_feats(2, seed=7), random_feats(3, seed=8)
    assert torch.allclose(SoftTargetContrastiveLoss.get_logits(a, b, 0.5), a @ b.t() * 2)


def test_explicit_targets_replace_label_targets():
    video, text = random_feats(3, seed=9), random_feats(3, seed=10)
    labels = torch.tensor([0, 0, 1])
    targets = torch.tensor([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]], dtype=torch.float64)
    loss = SoftTargetContrastiveLoss()(video, text, labels, 0.1, targets=targets)
    logits = video @ text.t() / 0.1
    t2v = targets.t() / targets.t().sum(dim=1, keepdim=True)
    expected = (soft_target_cross_entropy(logits, targets) + soft_target_cross_entropy(logits.t(), t2v)) / 2
    assert torch.allclose(loss, expected)
    other = SoftTargetContrastiveLoss()(video, text, labels, 0.1)
    assert not torch.allclose(loss, other)
    explicit_t2v = torch.eye(3, dtype=torch.float64)
    loss2 = SoftTargetContrastiveLoss()(video, text, labels, 0.1, targets=targets, targets_t2v=explicit_t2v)
    expected2 = (soft_target_cross_entropy(logits, targets) + F.cross_entropy(logits.t(), torch.arange(3))) / 2
    assert torch.allclose(loss2, expected2)


def test_soft_target_cross_entropy_matches_hard_labels():
    logits = torch.randn(4, 6)
    labels = torch.tensor([0, 5, 2, 2])
    assert torch.allclose(soft_target_cross_entropy(logits, F.one_hot(labels, 6).float()),
                          F.cross_entropy(logits, labels))


def test_built_from_registry_with_weight_and_gradients():
    loss_fn = build_loss(dict(type='SoftTargetContrastiveLoss', loss_weight=2.0))
    video = random_feats(4, seed=11).float().requires_grad_()
    text = random_feats(4, seed=12).float().requires_grad_()
    temp = torch.tensor(0.07, requires_grad=True)
    labels = torch.tensor([0, 1, 1, 2])
    loss = loss_fn(video, text, labels, temp)
    assert torch.allclose(loss, 2 * SoftTargetContrastiveLoss()(video, text, labels, temp))
    loss.backward()
    assert video.grad.abs().sum() > 0 and text.grad.abs().sum() > 0 and temp.grad is not None


def test_gather_without_process_group_is_local():
    video, text = random_feats(4, seed=13), random_feats(4, seed=14)
    labels = torch.tensor([0, 1, 0, 1])
    gathered = SoftTargetContrastiveLoss(gather_distributed=True)(video, text, labels, 0.1)
    assert torch.allclose(gathered, SoftTargetContrastiveLoss()(video, text, labels, 0.1))


@pytest.mark.parametrize('video_shape, text_shape, labels, match', [
    ((4, 8), (4, 6), [0, 1, 2, 3], 'video_feat'),
    ((4, 8), (4, 8), [0, 1, 2], 'labels for 4 clips'),
    ((4, 8), (5, 8), [0, 1, 2, 3], 'pass text_labels'),
])
def test_shape_errors(video_shape, text_shape, labels, match):
    with pytest.raises(ValueError, match=match):
        SoftTargetContrastiveLoss()(torch.randn(*video_shape), torch.randn(*text_shape), torch.tensor(labels), 0.1)


WORLD = 2
GLOBAL_LABELS = torch.tensor([0, 1, 0, 2, 1, 2, 2])
SIZES = (4, 3)  # ranks may hold different numbers of clips


def _distributed_worker(rank, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=WORLD)
    try:
        video_all, text_all = random_feats(7, seed=20), random_feats(7, seed=21)
        start = sum(SIZES[:rank])
        rows = slice(start, start + SIZES[rank])
        video = video_all[rows].clone().requires_grad_()
        text = text_all[rows].clone().requires_grad_()
        loss = SoftTargetContrastiveLoss(gather_distributed=True)(video, text, GLOBAL_LABELS[rows], 0.1)
        loss.backward()
        torch.save(dict(loss=loss.detach(), video_grad=video.grad, text_grad=text.grad),
                   os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_gather_distributed_gives_the_global_batch_gradient(tmp_path):
    """Each rank scores its rows against the global batch; the summed rank losses' gradient reaches every rank."""
    mp.spawn(_distributed_worker, args=(str(tmp_path / 'init'), str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f'rank{r}.pt') for r in range(WORLD)]

    video = random_feats(7, seed=20).requires_grad_()
    text = random_feats(7, seed=21).requires_grad_()
    labels = GLOBAL_LABELS
    targets = SoftTargetContrastiveLoss.get_targets(labels, labels)
    logits = video @ text.t() / 0.1
    per_rank = []
    start = 0
    for size in SIZES:
        rows = slice(start, start + size)
        per_rank.append((soft_target_cross_entropy(logits[rows], targets[rows]) +
                         soft_target_cross_entropy(logits.t()[rows], targets[rows])) / 2)
        start += size
    for rank in range(WORLD):
        assert torch.allclose(results[rank]['loss'], per_rank[rank])
    sum(per_rank).backward()
    assert torch.allclose(torch.cat([r['video_grad'] for r in results]), video.grad)
    assert torch.allclose(torch.cat([r['text_grad'] for r in results]), text.grad)
