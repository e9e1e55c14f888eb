"""PACL-style frame-to-sentence alignment: each sentence pools the frames that resemble it."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..builder import MODELS

WEIGHT_FNS = ('softmax', 'sigmoid')
WEIGHT_ONS = ('raw', 'normalized')


@MODELS.register_module()
class FrameTextAlignment(nn.Module):
    """Sentence-dependent weighted pooling of per-frame embeddings, and the cosine score of the result.

    For frames ``x`` [B, T, D] (embedder outputs) and sentence features ``t`` [L, D]::

        s[b, l, t]   = cos(x[b, t], t[l])                     similarities  'btd,ld->blt'
        a[b, l, t]   = softmax_t(s[b, l, :])  ('softmax')     weights
                     | sigmoid(sigmoid_scale * s)  ('sigmoid')
        v[b, l]      = normalize(sum_t a[b, l, t] * f[b, t])  pooled        'blt,btd->bld'
        score[b, l]  = v[b, l] . normalize(t[l])              scores        'bld,ld->bl'

    where ``f = x`` with ``weight_on='raw'`` (the embedder outputs) or ``f = normalize(x)`` with
    ``'normalized'``. Every step is one batched einsum over all (clip, sentence) pairs; nothing loops over the
    sentences.

    Memory (float32): the pooled features are the largest tensors, B x L x D floats; autograd keeps about two
    of them (the pooled sum for the normalisation and the normalised result for the scores) plus the [B, L, T]
    similarities and weights. For B=16 clips, L=120 classes, D=256 and T=12 frames: B*L*D = 491,520 floats =
    1.9 MiB per tensor, B*L*T = 23,040 floats = 90 KiB, so about 4 MiB saved for backward, against the
    22.5 MiB of a single [B, L, T, D] broadcast product (``benchmarks/pacl_memory.py`` measures it).

    Args:
        weight_fn (str): ``'softmax'`` (over the frames) or ``'sigmoid'`` (of ``sigmoid_scale`` x the cosine).
        weight_on (str): pool the ``'raw'`` frame embeddings or the L2-``'normalized'`` ones.
        sigmoid_scale (float): factor of the cosine inside the sigmoid.

    Shapes:
        frames (Tensor): [B, T, D]
        text (Tensor): [L, D] (any norm: only directions matter)
        similarity / frame_weights: [B, L, T]
        pool: [B, L, D] (L2-normalised)
        forward (scores): [B, L] cosine similarities in [-1, 1]
        pool_pairs: frames [B, T, D] and text [B, D] (one sentence per clip) -> [B, D]
    """

    def __init__(self, weight_fn: str = 'softmax', weight_on: str = 'raw', sigmoid_scale: float = 10.0):
        super().__init__()
        if weight_fn not in WEIGHT_FNS:
            raise ValueError(f'FrameTextAlignment weight_fn={weight_fn!r}: use one of {WEIGHT_FNS}')
        if weight_on not in WEIGHT_ONS:
            raise ValueError(f'FrameTextAlignment weight_on={weight_on!r}: use one of {WEIGHT_ONS}')
        self.weight_fn = weight_fn
        self.weight_on = weight_on
        self.sigmoid_scale = float(sigmoid_scale)

    @staticmethod
    def _check(frames: torch.Tensor, text: torch.Tensor, text_dim: int) -> None:
        if frames.dim() != 3 or text.dim() != text_dim or frames.shape[-1] != text.shape[-1]:
            expected = '[L, D]' if text_dim == 2 else '[B, L, D]'
            raise ValueError(f'FrameTextAlignment expects frames [B, T, D] and text {expected}, got '
                             f'{tuple(frames.shape)} and {tuple(text.shape)}')

    def _weights(self, similarity: torch.Tensor) -> torch.Tensor:
        if self.weight_fn == 'softmax':
            return F.softmax(similarity, dim=-1)
        return torch.sigmoid(similarity * self.sigmoid_scale)

    def _pooled_source(self, frames: torch.Tensor) -> torch.Tensor:
        return frames if self.weight_on == 'raw' else F.normalize(frames, dim=-1)

    def similarity(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of every frame with every sentence: [B, T, D], [L, D] -> [B, L, T]."""
        self._check(frames, text, 2)
        return torch.einsum('btd,ld->blt', F.normalize(frames, dim=-1), F.normalize(text, dim=-1))

    def frame_weights(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Pooling weight of every frame for every sentence: [B, T, D], [L, D] -> [B, L, T]."""
        return self._weights(self.similarity(frames, text))

    def pool(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """One normalised video feature per (clip, sentence): [B, T, D], [L, D] -> [B, L, D]."""
        weights = self.frame_weights(frames, text)
        pooled = torch.einsum('blt,btd->bld', weights, self._pooled_source(frames))
        return F.normalize(pooled, dim=-1)

    def forward(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Cosine score of every clip, pooled for every sentence, with that sentence: -> [B, L]."""
        return torch.einsum('bld,ld->bl', self.pool(frames, text), F.normalize(text, dim=-1))

    def pool_pairs(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Clip b pooled for its own sentence ``text[b]`` only: [B, T, D], [B, D] -> [B, D] (normalised)."""
        if text.dim() != 2 or text.shape[0] != frames.shape[0]:
            raise ValueError(f'FrameTextAlignment.pool_pairs expects one sentence per clip, text [B, D], got '
                             f'frames {tuple(frames.shape)} and text {tuple(text.shape)}')
        self._check(frames, text, 2)
        similarity = torch.einsum('btd,bd->bt', F.normalize(frames, dim=-1), F.normalize(text, dim=-1))
        pooled = torch.einsum('bt,btd->bd', self._weights(similarity), self._pooled_source(frames))
        return F.normalize(pooled, dim=-1)

    def extra_repr(self) -> str:
        scale = f', sigmoid_scale={self.sigmoid_scale}' if self.weight_fn == 'sigmoid' else ''
        return f'weight_fn={self.weight_fn!r}, weight_on={self.weight_on!r}{scale}'
