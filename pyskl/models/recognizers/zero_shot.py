"""Zero-shot scoring: restrict the class scores of a recognizer to a subset of its classes.

Zero-shot recognition trains on the *seen* classes and tests on *unseen* ones, scoring every clip only against the
unseen classes' sentences. Labels keep their original class ids everywhere (datasets, text rows, scores): a
recognizer given ``test_cfg=dict(class_subset=[...])`` still returns ``[B, num_classes]`` scores, with the classes
outside the subset masked out before the clips are averaged. With ``average_clips='prob'`` (the default) the
softmax is then taken over the subset only: scores outside it are exactly 0 and every row sums to 1, so
top-k accuracy against the original labels measures zero-shot accuracy among the subset. With ``'score'`` or None
the masked classes get ``-inf``, so they never rank above a subset class.
"""
from typing import Optional, Sequence

import torch

from ...utils.validation import check_class_subset

__all__ = ['check_class_subset', 'class_subset_mask', 'restrict_to_classes', 'ClassSubsetScoring']


def class_subset_mask(class_subset: Sequence[int], num_classes: int,
                      device: Optional[torch.device] = None) -> torch.Tensor:
    """Boolean mask [num_classes], True for the classes of ``class_subset``."""
    ids = check_class_subset(class_subset, num_classes)
    mask = torch.zeros(num_classes, dtype=torch.bool, device=device)
    mask[torch.as_tensor(ids, dtype=torch.long, device=device)] = True
    return mask


def restrict_to_classes(scores: torch.Tensor, class_subset: Optional[Sequence[int]],
                        fill: float = float('-inf')) -> torch.Tensor:
    """Set the scores of the classes outside ``class_subset`` to ``fill`` (a new tensor; None: ``scores`` as is).

    Args:
        scores (Tensor): [..., num_classes] logits or similarities (e.g. [N, C] or [B, num_clips, C]).
        class_subset (Sequence[int] | None): the classes kept.
        fill (float): the value of the other classes; ``-inf`` gives them probability 0 after a softmax.

    Returns:
        Tensor: [..., num_classes]
    """
    if class_subset is None:
        return scores
    mask = class_subset_mask(class_subset, scores.shape[-1], scores.device)
    return scores.masked_fill(~mask, fill)


class ClassSubsetScoring:
    """Mixin for recognizers: ``test_cfg=dict(class_subset=[...])`` restricts the test scores to those classes.

    It wraps :meth:`BaseRecognizer.average_clip`, which every text-supervised recognizer calls on its per-clip
    scores [N, C] in ``forward_test``: the classes outside the subset are masked to ``-inf`` first, so with
    ``average_clips='prob'`` the softmax runs over the subset only (zeros elsewhere, rows summing to 1). Put it
    before the recognizer base class: ``class RecognizerVisece(ClassSubsetScoring, BaseRecognizer)``.

    Shapes:
        average_clip: cls_score [B * num_segs, C] or [B, num_segs, C] -> [B, C]
    """

    TEST_CFG_KEYS = ('class_subset', )

    @property
    def class_subset(self) -> Optional[list]:
        """The 0-based class ids of ``test_cfg['class_subset']`` (None: all classes)."""
        return check_class_subset(self.test_cfg.get('class_subset'), name='test_cfg class_subset')

    def average_clip(self, cls_score: torch.Tensor, num_segs: Optional[int] = None) -> torch.Tensor:
        """Mask the classes outside ``test_cfg['class_subset']``, then average the clips as the base class does."""
        subset = self.test_cfg.get('class_subset')
        if subset is not None:
            cls_score = restrict_to_classes(cls_score, check_class_subset(subset, cls_score.shape[-1],
                                                                          name='test_cfg class_subset'))
        return super().average_clip(cls_score, num_segs)
