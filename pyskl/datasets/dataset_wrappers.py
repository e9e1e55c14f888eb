"""Dataset wrappers: `RepeatDataset` (one dataset several times per epoch) and `ConcatDataset` (datasets in a row)."""
import logging
from typing import Dict, Optional, Sequence, Union

import numpy as np
from torch.utils.data import ConcatDataset as _TorchConcatDataset
from torch.utils.data import Dataset

from .annotation_checks import check_label_range
from .base import BaseDataset, evaluate_scores


def check_num_classes(dataset: Dataset, num_classes: Optional[int], wrapper: str) -> None:
    """With ``num_classes``, every label of ``dataset`` lies in ``[0, num_classes)`` (datasets without labels pass).

    Raises:
        ValueError: ``num_classes`` is not a positive int, or the dataset was built with another ``num_classes``.
        AnnotationError: a label is out of range; the message names the dataset's file, the sample and 'label'.
    """
    if num_classes is None:
        return
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f'{wrapper}: num_classes must be a positive int, got {num_classes!r}')
    inner = getattr(dataset, 'num_classes', None)
    if inner is not None and inner != num_classes:
        raise ValueError(f'{wrapper}: num_classes={num_classes} but the wrapped dataset was built with '
                         f'num_classes={inner}; give both the same value (the model\'s number of classes)')
    labels = getattr(dataset, 'labels', None)
    if labels is None:
        return
    infos = getattr(dataset, 'video_infos', None)
    names = [info.get('frame_dir') for info in infos] if isinstance(infos, list) else None
    where = f'{wrapper}: ann_file {getattr(dataset, "ann_file", type(dataset).__name__)}'
    check_label_range(where, labels, num_classes, names)


class RepeatDataset(Dataset):
    """``dataset`` repeated ``times`` times, so one epoch goes over it ``times`` times (fewer, longer epochs).

    Index ``i`` is sample ``i % len(dataset)`` of the inner dataset.

    Args:
        dataset: the dataset to repeat.
        times (int): number of repetitions.
        num_classes (int, optional): when given, every label of ``dataset`` must lie in ``[0, num_classes)``
            (checked now, in training and test mode alike); a dataset built with another ``num_classes`` is refused.
    """

    def __init__(self, dataset: Dataset, times: int, num_classes: Optional[int] = None) -> None:
        if not isinstance(times, int) or times < 1:
            raise ValueError(f'RepeatDataset: times must be a positive int, got {times!r}')
        check_num_classes(dataset, num_classes, 'RepeatDataset')
        self.num_classes = num_classes if num_classes is not None else getattr(dataset, 'num_classes', None)
        self.dataset = dataset
        self.times = times
        self._ori_len = len(dataset)

    def __len__(self) -> int:
        return self.times * self._ori_len

    def __getitem__(self, idx: int):
        return self.dataset[idx % self._ori_len]

    @property
    def CLASSES(self):
        """The inner dataset's ``CLASSES`` (None when it has none)."""
        return getattr(self.dataset, 'CLASSES', None)

    def evaluate(self, results: Sequence[np.ndarray], *args, **kwargs) -> Dict[str, float]:
        """Evaluate with the inner dataset's `evaluate`.

        ``results`` holds one score array per inner sample, or one per repeated sample (``len(self)`` of them, as
        produced by iterating over this wrapper); in that case the ``times`` scores of each sample are averaged.
        """
        if not hasattr(self.dataset, 'evaluate'):
            raise NotImplementedError(f'{type(self.dataset).__name__} has no evaluate() to delegate to')
        if len(results) == len(self) and self.times > 1:
            stacked = np.stack([np.asarray(r) for r in results]).reshape(self.times, self._ori_len, -1)
            results = list(stacked.mean(axis=0))
        elif len(results) != self._ori_len:
            raise ValueError(f'RepeatDataset: got {len(results)} results, expected {self._ori_len} (one per sample of '
                             f'the inner dataset) or {len(self)} (one per repeated sample)')
        return self.dataset.evaluate(results, *args, **kwargs)


class ConcatDataset(_TorchConcatDataset):
    """Several datasets one after the other.

    Args:
        datasets: the datasets to concatenate.
        separate_eval (bool): `evaluate` scores every part on its own and prefixes its keys with the part's
            position (``'0_top1_acc'``, ``'1_top1_acc'``, ...). With False, all parts must be `BaseDataset` instances
            of the same type and are scored together as one dataset.
        num_classes (int, optional): when given, every label of every part must lie in ``[0, num_classes)``
            (checked now); a part built with another ``num_classes`` is refused.
    """

    def __init__(self, datasets: Sequence[Dataset], separate_eval: bool = True,
                 num_classes: Optional[int] = None) -> None:
        datasets = list(datasets)
        if not datasets:
            raise ValueError('ConcatDataset needs at least one dataset')
        for i, dataset in enumerate(datasets):
            check_num_classes(dataset, num_classes, f'ConcatDataset part {i}')
        self.num_classes = num_classes
        super().__init__(datasets)
        self.separate_eval = separate_eval

    @property
    def CLASSES(self):
        """The first dataset's ``CLASSES`` (None when it has none)."""
        return getattr(self.datasets[0], 'CLASSES', None)

    def evaluate(self,
                 results: Sequence[np.ndarray],
                 logger: Optional[Union[logging.Logger, str]] = None,
                 **kwargs) -> Dict[str, float]:
        """Evaluate one score array per sample, in the concatenated order (see ``separate_eval``).

        ``kwargs`` are the parts' `evaluate` arguments (``metrics``, ``metric_options``, ``topk``).
        """
        if len(results) != len(self):
            raise ValueError(f'ConcatDataset: got {len(results)} results for {len(self)} samples '
                             f'(parts of {[len(d) for d in self.datasets]} samples)')
        if self.separate_eval:
            merged: Dict[str, float] = {}
            start = 0
            for i, (dataset, end) in enumerate(zip(self.datasets, self.cumulative_sizes)):
                if not hasattr(dataset, 'evaluate'):
                    raise NotImplementedError(f'ConcatDataset: part {i} ({type(dataset).__name__}) has no evaluate()')
                part = dataset.evaluate(results[start:end], logger=logger, **kwargs)
                merged.update({f'{i}_{k}': v for k, v in part.items()})
                start = end
            return merged
        types = {type(d) for d in self.datasets}
        if len(types) != 1 or not issubclass(types.pop(), BaseDataset):
            raise NotImplementedError('ConcatDataset(separate_eval=False) can only score parts that are BaseDataset '
                                      f'instances of one type, got {[type(d).__name__ for d in self.datasets]}')
        multi = {d.multi_class for d in self.datasets}
        if len(multi) != 1:
            raise ValueError('ConcatDataset(separate_eval=False): parts mix multi_class=True and False')
        labels = [label for d in self.datasets for label in d.labels]
        return evaluate_scores(results, labels, logger=logger, multi_class=multi.pop(),
                               title='Evaluation of the concatenated datasets', **kwargs)
