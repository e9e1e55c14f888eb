"""`BaseDataset`: annotation list + pipeline + evaluation of per-sample class scores."""
import copy
import json
import logging
import os.path as osp
import pickle
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmcv.utils import print_log
from torch.utils.data import Dataset

from ..core.evaluation import mean_average_precision, mean_class_accuracy, seen_unseen_accuracy, top_k_accuracy
from ..utils.io import atomic_write_bytes
from ..utils.logger import get_root_logger
from .pipelines import Compose

ALLOWED_METRICS = ('top_k_accuracy', 'mean_class_accuracy', 'mean_average_precision', 'seen_unseen_accuracy')


def evaluate_scores(results: Sequence[np.ndarray],
                    labels: Sequence,
                    metrics: Union[str, Sequence[str]] = 'top_k_accuracy',
                    metric_options: Optional[dict] = None,
                    logger: Optional[Union[logging.Logger, str]] = None,
                    multi_class: bool = False,
                    title: str = 'Evaluation',
                    unseen_classes: Optional[Sequence[int]] = None,
                    **deprecated_kwargs) -> Dict[str, float]:
    """Compute classification metrics from per-sample score arrays and log them as a table.

    Args:
        results: one ``[num_classes]`` score array per sample (or an ``[N, num_classes]`` array).
        labels: the samples' labels, in the same order (class indices, or lists of them when ``multi_class``).
        metrics: one or more of ``'top_k_accuracy'``, ``'mean_class_accuracy'``, ``'mean_average_precision'``,
            ``'seen_unseen_accuracy'`` (generalised zero-shot: needs the unseen classes).
        metric_options: per-metric options; default ``dict(top_k_accuracy=dict(topk=(1, 5)))``;
            ``seen_unseen_accuracy=dict(unseen_classes=[...], average='sample' | 'class')``.
        logger: a `logging.Logger`, a logger name, ``'silent'``, or None for the package logger.
        multi_class: labels are sets of classes (only ``mean_average_precision`` applies).
        title: first line of the logged table.
        unseen_classes: 0-based ids of the unseen classes for ``seen_unseen_accuracy`` (same as its metric option;
            the config's ``evaluation=dict(..., unseen_classes=[...])`` arrives here).
        deprecated_kwargs: ``topk`` (pyskl's ``evaluation=dict(..., topk=(1, 5))``) overrides the top-k option.

    Returns:
        dict[str, float]: ``top{k}_acc`` for each k, ``mean_class_accuracy``, ``mean_average_precision``,
        ``seen_acc`` / ``unseen_acc`` / ``harmonic_mean`` as requested, as plain Python floats.
    """
    options = copy.deepcopy(metric_options) if metric_options is not None else dict(top_k_accuracy=dict(topk=(1, 5)))
    if 'topk' in deprecated_kwargs:
        options.setdefault('top_k_accuracy', {})['topk'] = deprecated_kwargs.pop('topk')
    if unseen_classes is not None:
        options.setdefault('seen_unseen_accuracy', {})['unseen_classes'] = unseen_classes
    if deprecated_kwargs:
        raise TypeError(f'evaluate() got unexpected keyword arguments {sorted(deprecated_kwargs)}; '
                        f'pass metrics=..., metric_options=... (or the legacy topk=...)')
    metric_list = [metrics] if isinstance(metrics, str) else list(metrics)
    for metric in metric_list:
        if metric not in ALLOWED_METRICS:
            raise KeyError(f'unknown metric {metric!r}; allowed metrics: {", ".join(ALLOWED_METRICS)}')
    if len(results) != len(labels):
        raise ValueError(f'got {len(results)} results for {len(labels)} samples: results must hold one score array '
                         'per sample, in dataset order')
    scores = results if isinstance(results, np.ndarray) else [np.asarray(r) for r in results]

    eval_results: Dict[str, float] = {}
    for metric in metric_list:
        if metric in ('top_k_accuracy', 'mean_class_accuracy', 'seen_unseen_accuracy') and multi_class:
            raise ValueError(f'{metric} needs one label per sample; use mean_average_precision for multi-class data')
        if metric == 'top_k_accuracy':
            topk = options.get('top_k_accuracy', {}).get('topk', (1, 5))
            topk = (topk, ) if isinstance(topk, int) else tuple(topk)
            for k, acc in zip(topk, top_k_accuracy(scores, labels, topk)):
                eval_results[f'top{k}_acc'] = acc
        elif metric == 'mean_class_accuracy':
            eval_results['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
        elif metric == 'seen_unseen_accuracy':
            zsl_options = dict(options.get('seen_unseen_accuracy', {}))
            if zsl_options.get('unseen_classes') is None:
                raise ValueError('metric seen_unseen_accuracy needs the unseen classes: evaluation=dict(..., '
                                 'unseen_classes=[...]) or metric_options=dict(seen_unseen_accuracy=dict('
                                 'unseen_classes=[...]))')
            eval_results.update(seen_unseen_accuracy(scores, labels, **zsl_options))
        else:
            eval_results['mean_average_precision'] = mean_average_precision(scores, labels)

    width = max([len('metric')] + [len(k) for k in eval_results])
    rule = f'+-{"-" * width}-+--------+'
    rows = [f'| {k:<{width}} | {v:.4f} |' for k, v in eval_results.items()]
    table = '\n'.join([f'{title} ({len(labels)} samples)', rule, f'| {"metric":<{width}} | value  |', rule] + rows +
                      [rule])
    print_log(table, logger=get_root_logger() if logger is None else logger)
    return eval_results


def _to_jsonable(obj: Any) -> Any:
    """Numpy arrays and scalars (also nested in lists / dicts) as JSON-serialisable Python objects."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    return obj


class BaseDataset(Dataset, metaclass=ABCMeta):
    """A list of annotation dicts turned into training / testing samples by a pipeline.

    Subclasses implement `load_annotations`, which returns the list of annotation dicts (``video_infos``). Indexing
    deep-copies one annotation, adds ``modality``, ``start_index`` and ``test_mode`` and runs the pipeline on it.

    Args:
        ann_file (str): the annotation file.
        pipeline: a list of pipeline configs / callables (built with ``pyskl.datasets.pipelines.Compose``), a single
            callable taking and returning the results dict, or None to return the annotation dict itself.
        data_prefix (str, optional): directory prepended to file-like fields by subclasses.
        test_mode (bool): build test samples (deterministic pipelines) instead of training samples.
        multi_class (bool): each label is a list of class indices; samples then carry a ``[num_classes]`` 0/1
            float32 ``label`` vector. Needs ``num_classes``.
        num_classes (int, optional): number of classes; labels are checked against it.
        start_index (int): index of the first frame, passed to the frame samplers.
        modality (str): passed to the pipeline (``'Pose'``).
    """

    CLASSES = None
    allowed_metrics = ALLOWED_METRICS

    def __init__(self,
                 ann_file: str,
                 pipeline: Optional[Union[Sequence[Union[dict, Callable]], Callable]],
                 data_prefix: Optional[str] = None,
                 test_mode: bool = False,
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'Pose') -> None:
        super().__init__()
        if multi_class and num_classes is None:
            raise ValueError(f'{type(self).__name__}: multi_class=True needs num_classes')
        if num_classes is not None and (not isinstance(num_classes, int) or isinstance(num_classes, bool)
                                        or num_classes < 1):
            raise ValueError(f'{type(self).__name__}: num_classes must be a positive int, got {num_classes!r}')
        self.ann_file = ann_file
        self.data_prefix = data_prefix
        self.test_mode = test_mode
        self.multi_class = multi_class
        self.num_classes = num_classes
        self.start_index = start_index
        self.modality = modality
        self.pipeline = self._build_pipeline(pipeline)
        self.video_infos = self.load_annotations()

    @staticmethod
    def _build_pipeline(pipeline) -> Optional[Callable]:
        if pipeline is None:
            return None
        if isinstance(pipeline, (list, tuple)):
            return Compose(list(pipeline))
        if callable(pipeline):
            return pipeline
        raise TypeError(f'pipeline must be a list of transforms, a callable or None, got {type(pipeline).__name__}')

    @abstractmethod
    def load_annotations(self) -> List[dict]:
        """Read ``self.ann_file`` and return the list of annotation dicts."""

    def __len__(self) -> int:
        return len(self.video_infos)

    def load_sample(self, idx: int) -> dict:
        """A private (deep) copy of annotation ``idx``; subclasses may complete or filter its fields here."""
        return copy.deepcopy(self.video_infos[idx])

    def get_sample(self, idx: int) -> dict:
        """Sample ``idx`` with the dataset-level keys added, as the pipeline receives it (without ``test_mode``)."""
        results = self.load_sample(idx)
        results['modality'] = self.modality
        results['start_index'] = self.start_index
        if self.multi_class:
            onehot = np.zeros(self.num_classes, dtype=np.float32)
            onehot[np.asarray(results['label'], dtype=np.int64)] = 1.
            results['label'] = onehot
        return results

    def _prepare(self, idx: int, test_mode: bool):
        results = self.get_sample(idx)
        results['test_mode'] = test_mode
        return results if self.pipeline is None else self.pipeline(results)

    def prepare_train_frames(self, idx: int):
        """Sample ``idx`` through the pipeline in training mode."""
        return self._prepare(idx, False)

    def prepare_test_frames(self, idx: int):
        """Sample ``idx`` through the pipeline in test mode."""
        return self._prepare(idx, True)

    def __getitem__(self, idx: int):
        return self.prepare_test_frames(idx) if self.test_mode else self.prepare_train_frames(idx)

    @property
    def labels(self) -> list:
        """The label of every sample, in dataset order."""
        return [info['label'] for info in self.video_infos]

    def evaluate(self,
                 results: Sequence[np.ndarray],
                 metrics: Union[str, Sequence[str]] = 'top_k_accuracy',
                 metric_options: Optional[dict] = None,
                 logger: Optional[Union[logging.Logger, str]] = None,
                 unseen_classes: Optional[Sequence[int]] = None,
                 **deprecated_kwargs) -> Dict[str, float]:
        """Evaluate per-sample class scores against the dataset's labels.

        Args:
            results: one ``[num_classes]`` score array per sample, in dataset order.
            metrics: ``'top_k_accuracy'``, ``'mean_class_accuracy'``, ``'mean_average_precision'``,
                ``'seen_unseen_accuracy'`` or a list.
            metric_options: per-metric options; None means ``dict(top_k_accuracy=dict(topk=(1, 5)))``.
            logger: where the table of results is logged (None: the ``pyskl`` logger).
            unseen_classes: 0-based ids of the unseen classes, for ``seen_unseen_accuracy`` (generalised
                zero-shot: ``seen_acc``, ``unseen_acc``, ``harmonic_mean``).
            deprecated_kwargs: pyskl's ``topk=(1, 5)``.

        Returns:
            dict[str, float]: e.g. ``{'top1_acc': 0.9, 'top5_acc': 1.0, 'mean_class_accuracy': 0.88}``.
        """
        if len(results) != len(self):
            raise ValueError(f'{type(self).__name__}({self.ann_file}): got {len(results)} results for {len(self)} '
                             'samples; results must hold one score array per sample, in dataset order')
        return evaluate_scores(results, self.labels, metrics, metric_options, logger, multi_class=self.multi_class,
                               title=f'Evaluation of {self.ann_file}', unseen_classes=unseen_classes,
                               **deprecated_kwargs)

    @staticmethod
    def dump_results(results: Any, out: str) -> None:
        """Write ``results`` to ``out``, as a pickle (``.pkl``, ``.pickle``) or JSON (``.json``), atomically."""
        ext = osp.splitext(out)[1].lower()
        if ext in ('.pkl', '.pickle'):
            payload = pickle.dumps(results, protocol=4)
        elif ext == '.json':
            payload = json.dumps(_to_jsonable(results)).encode('utf-8')
        else:
            raise ValueError(f'cannot dump results to {out}: the extension must be .pkl, .pickle or .json')
        atomic_write_bytes(out, payload)
