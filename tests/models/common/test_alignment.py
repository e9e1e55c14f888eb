import itertools

import pytest
import torch
import torch.nn.functional as F

from pyskl.models import MODELS
from pyskl.models.common import FrameTextAlignment

OPTIONS = list(itertools.product(('softmax', 'sigmoid'), ('raw', 'normalized')))


def reference_scores(frames, text, weight_fn, weight_on):
    """One (clip, sentence) pair at a time, written out with loops."""
    batch, length = frames.shape[0], text.shape[0]
    pooled = torch.zeros(batch, length, frames.shape[2], dtype=torch.float64)
    scores = torch.zeros(batch, length, dtype=torch.float64)
    frames, text = frames.double(), text.double()
    for b in range(batch):
        for c in range(length):
            t = text[c] / text[c].norm()
            cosine = torch.stack([(f / f.norm()) @ t for f in frames[b]])
            weights = torch.softmax(cosine, dim=0) if weight_fn == 'softmax' else torch.sigmoid(10 * cosine)
            source = frames[b] if weight_on == 'raw' else frames[b] / frames[b].norm(dim=1, keepdim=True)
            v = sum(w * f for w, f in zip(weights, source))
            pooled[b, c] = v / v.norm()
            scores[b, c] = pooled[b, c] @ t
    return pooled, scores


@pytest.mark.parametrize('weight_fn, weight_on', OPTIONS)
def test_matches_the_pairwise_reference(weight_fn, weight_on):
    gen = torch.Generator().manual_seed(0)
    frames = torch.randn(3, 5, 8, generator=gen) * torch.rand(3, 5, 1, generator=gen) * 4
    text = torch.randn(7, 8, generator=gen) * 3
    align = FrameTextAlignment(weight_fn=weight_fn, weight_on=weight_on)
    pooled, scores = reference_scores(frames, text, weight_fn, weight_on)
    assert align.pool(frames, text).shape == (3, 7, 8)
    assert torch.allclose(align.pool(frames, text).double(), pooled, atol=1e-5)
    assert align(frames, text).shape == (3, 7)
    assert torch.allclose(align(frames, text).double(), scores, atol=1e-5)


@pytest.mark.parametrize('weight_fn, weight_on', OPTIONS)
def test_pool_pairs_is_the_own_sentence_column(weight_fn, weight_on):
    gen = torch.Generator().manual_seed(1)
    frames, text = torch.randn(4, 6, 8, generator=gen), torch.randn(4, 8, generator=gen)
    align = FrameTextAlignment(weight_fn=weight_fn, weight_on=weight_on)
    pairs = align.pool_pairs(frames, text)
    assert pairs.shape == (4, 8)
    assert torch.allclose(pairs, align.pool(frames, text)[torch.arange(4), torch.arange(4)], atol=1e-6)
    assert torch.allclose(pairs.norm(dim=1), torch.ones(4), atol=1e-6)


def test_weights():
    gen = torch.Generator().manual_seed(2)
    frames, text = torch.randn(2, 6, 8, generator=gen), torch.randn(3, 8, generator=gen)
    cosine = F.normalize(frames, dim=-1) @ F.normalize(text, dim=-1).t()  # [B, T, L]
    similarity = FrameTextAlignment().similarity(frames, text)
    assert similarity.shape == (2, 3, 6) and torch.allclose(similarity, cosine.transpose(1, 2), atol=1e-6)
    softmax = FrameTextAlignment('softmax').frame_weights(frames, text)
    assert torch.allclose(softmax.sum(dim=-1), torch.ones(2, 3), atol=1e-6)
    assert torch.allclose(softmax, F.softmax(cosine.transpose(1, 2), dim=-1), atol=1e-6)
    sigmoid = FrameTextAlignment('sigmoid').frame_weights(frames, text)
    assert torch.allclose(sigmoid, torch.sigmoid(10 * cosine.transpose(1, 2)), atol=1e-6)
    assert torch.allclose(FrameTextAlignment('sigmoid', sigmoid_scale=2.0).frame_weights(frames, text),
                          torch.sigmoid(2 * cosine.transpose(1, 2)), atol=1e-6)


def test_the_frame_like_the_sentence_weighs_most():
    text = torch.eye(4)[:2] * 5  # two sentences along axes 0 and 1
    frames = torch.tensor([[[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]]])
    weights = FrameTextAlignment('sigmoid').frame_weights(frames, text)
    assert weights[0, 0].argmax() == 0 and weights[0, 1].argmax() == 1
    uniform = F.normalize(frames.mean(dim=1), dim=-1) @ F.normalize(text, dim=-1).t()  # [1, 2], 0.577 each
    for weight_fn in ('softmax', 'sigmoid'):
        scores = FrameTextAlignment(weight_fn)(frames, text)
        assert (scores > uniform + 0.05).all(), weight_fn  # each sentence pools mostly its own frame
    # sigmoid(10 x cosine): the own frame weighs ~1, the orthogonal ones 0.5 -> cosine 1 / sqrt(1.5)
    assert torch.allclose(FrameTextAlignment('sigmoid')(frames, text), torch.full((1, 2), 1.5**-0.5), atol=1e-4)


def test_raw_and_normalized_differ_only_through_the_frame_norms():
    gen = torch.Generator().manual_seed(3)
    unit = F.normalize(torch.randn(2, 5, 8, generator=gen), dim=-1)
    text = torch.randn(3, 8, generator=gen)
    raw, normalized = FrameTextAlignment(weight_on='raw'), FrameTextAlignment(weight_on='normalized')
    assert torch.allclose(raw(unit, text), normalized(unit, text), atol=1e-6)
    scaled = unit * torch.tensor([1.0, 10.0, 0.1, 3.0, 1.0]).reshape(1, 5, 1)
    assert not torch.allclose(raw(scaled, text), normalized(scaled, text), atol=1e-3)
    assert torch.allclose(normalized(scaled, text), normalized(unit, text), atol=1e-6)
    assert torch.allclose(raw(scaled, text * 7), raw(scaled, text), atol=1e-6)  # only the text direction matters


def test_gradients_and_registry():
    align = MODELS.build(dict(type='FrameTextAlignment', weight_fn='sigmoid', weight_on='normalized'))
    assert isinstance(align, FrameTextAlignment) and 'sigmoid' in repr(align)
    frames, text = torch.randn(2, 4, 8, requires_grad=True), torch.randn(3, 8, requires_grad=True)
    align(frames, text).sum().backward()
    assert frames.grad.abs().sum() > 0 and text.grad.abs().sum() > 0


def test_errors():
    with pytest.raises(ValueError, match='weight_fn'):
        FrameTextAlignment(weight_fn='relu')
    with pytest.raises(ValueError, match='weight_on'):
        FrameTextAlignment(weight_on='both')
    with pytest.raises(ValueError, match=r'frames \[B, T, D\]'):
        FrameTextAlignment()(torch.randn(2, 4, 8), torch.randn(3, 6))
    with pytest.raises(ValueError, match='one sentence per clip'):
        FrameTextAlignment().pool_pairs(torch.randn(2, 4, 8), torch.randn(3, 8))
