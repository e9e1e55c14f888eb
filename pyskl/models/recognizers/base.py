"""BaseRecognizer: the single owner of ``forward``, ``train_step``, ``val_step`` and ``_parse_losses``."""
import difflib
from abc import ABCMeta, abstractmethod
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from ...utils.registry import build_with_known_types
from ..builder import MODELS, build_backbone, build_head
from ..common.heatmap import KEYPOINT_INPUTS, HeatmapGenerator

AVERAGE_CLIPS = ('score', 'prob', None)


class UnknownConfigKeyError(KeyError):
    """A ``train_cfg`` / ``test_cfg`` key that the recognizer does not read (prints without KeyError's quoting)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def model_num_classes(model: nn.Module) -> Optional[int]:
    """The number of classes a built recognizer scores (through a DDP / data-parallel wrapper too):
    ``num_classes`` or ``cls_head.num_classes`` for `Recognizer3D`, the number of class sentences for the text
    recognizers; None when the model says neither."""
    model = getattr(model, 'module', model)
    value = getattr(model, 'num_classes', None)
    if isinstance(value, int):
        return value
    head = getattr(model, 'cls_head', None)
    if head is not None and isinstance(getattr(head, 'num_classes', None), int):
        return head.num_classes
    branch = getattr(model, 'text_branch', None)
    if branch is not None and isinstance(getattr(branch, 'num_sentences', None), int):
        return branch.num_sentences
    return None


def _build_part(cfg: Union[Dict, nn.Module, None], builder) -> Optional[nn.Module]:
    """Build a sub-module from a config; pass an already built module through; None stays None."""
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return builder(cfg)


class BaseRecognizer(nn.Module, metaclass=ABCMeta):
    """Base class of recognizers.

    It defines the whole training / testing protocol once: ``forward`` dispatches to ``forward_train`` (a
    dict of losses and metrics) or ``forward_test`` (numpy scores); ``train_step`` / ``val_step`` are what the
    mmcv runner calls; ``_parse_losses`` sums every entry whose key contains 'loss' and turns everything into
    Python floats for logging. Subclasses implement ``forward_train`` and ``forward_test`` only.

    Each part is built only when given, so subclasses without a backbone or a classification head (e.g.
    text-supervised recognizers) call ``super().__init__(backbone=None, train_cfg=..., test_cfg=...)`` and
    add their own modules. The parts built here are initialised here; subclasses initialise what they add.

    Device-side heatmaps: with ``train_cfg['heatmap']`` / ``test_cfg['heatmap']`` (the arguments of
    `GeneratePoseTarget`, e.g. ``dict(sigma=0.6, with_kp=True, double=True)``), a batch may carry the compact
    keypoints of `FormatCompactKeypoints` (``keypoint``, ``keypoint_score``, ``img_shape``) instead of ``imgs``:
    ``forward`` then draws ``imgs`` on the model's device with a `HeatmapGenerator` (the training one when
    ``return_loss`` is True, the test one otherwise) before calling ``forward_train`` / ``forward_test``. Being
    read from ``train_cfg`` / ``test_cfg``, the option works for every subclass without code of its own.

    Args:
        backbone (dict | nn.Module, optional): backbone config.
        cls_head (dict | nn.Module, optional): classification head config.
        neck (dict | nn.Module, optional): module applied to the backbone output.
        train_cfg (dict, optional): ``aux_info`` (data keys passed on to ``forward_train``), ``heatmap``
            (`GeneratePoseTarget` arguments for training batches of keypoints).
        test_cfg (dict, optional): ``average_clips`` ('prob' (default), 'score' or None), ``max_testing_views``
            (clips per backbone call at test time), ``feat_ext`` (return pooled features instead of scores),
            ``heatmap`` (`GeneratePoseTarget` arguments for test batches of keypoints, e.g. with ``double=True``).

    Unknown keys in ``train_cfg`` / ``test_cfg`` (e.g. ``average_clip`` for ``average_clips``) are errors that list
    the known keys: those in the ``TRAIN_CFG_KEYS`` / ``TEST_CFG_KEYS`` class attributes of the recognizer's class and
    of every base class and mixin (a subclass that reads a new key adds it there, e.g. ``TEST_CFG_KEYS =
    ('class_subset', )``).

    Shapes:
        imgs (Tensor): [B, num_clips, ...], e.g. [B, num_clips, C, T, H, W] for 3D recognizers
        keypoint (Tensor): [B, num_clips, M, T, V, 2], with keypoint_score [B, num_clips, M, T, V] and
            img_shape [B, 2] (instead of imgs, with the ``heatmap`` option)
        label (Tensor): [B] or [B, 1]
        forward_test output (ndarray): [B, num_classes]
    """

    TRAIN_CFG_KEYS: Tuple[str, ...] = ('aux_info', 'heatmap')
    TEST_CFG_KEYS: Tuple[str, ...] = ('average_clips', 'max_testing_views', 'feat_ext', 'heatmap')

    def __init__(self,
                 backbone: Union[Dict, nn.Module, None] = None,
                 cls_head: Union[Dict, nn.Module, None] = None,
                 neck: Union[Dict, nn.Module, None] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None):
        super().__init__()
        self._check_cfg_keys(train_cfg, 'train_cfg')
        self._check_cfg_keys(test_cfg, 'test_cfg')
        self.train_cfg = dict(train_cfg) if train_cfg else dict()
        self.test_cfg = dict(test_cfg) if test_cfg else dict()
        average_clips = self.test_cfg.get('average_clips', 'prob')
        if average_clips not in AVERAGE_CLIPS:
            raise ValueError(f"test_cfg average_clips={average_clips!r}: use 'prob', 'score' or None")
        self.aux_info = list(self.train_cfg.get('aux_info', []))
        self.max_testing_views = self.test_cfg.get('max_testing_views')
        if self.max_testing_views is not None and int(self.max_testing_views) < 1:
            raise ValueError(f'test_cfg max_testing_views={self.max_testing_views!r}: use a positive int or None')
        self.feat_ext = bool(self.test_cfg.get('feat_ext', False))
        self.train_heatmap = self._heatmap_generator(self.train_cfg, 'train_cfg')
        self.test_heatmap = self._heatmap_generator(self.test_cfg, 'test_cfg')

        self.backbone = _build_part(backbone, build_backbone)
        self.neck = _build_part(neck, lambda cfg: build_with_known_types(cfg, MODELS))
        self.cls_head = _build_part(cls_head, build_head)
        BaseRecognizer.init_weights(self)

    @classmethod
    def known_cfg_keys(cls, name: str) -> List[str]:
        """The keys ``train_cfg`` (``name='train_cfg'``) or ``test_cfg`` may hold for this class, sorted."""
        attr = {'train_cfg': 'TRAIN_CFG_KEYS', 'test_cfg': 'TEST_CFG_KEYS'}[name]
        keys = set()
        for klass in cls.__mro__:
            keys.update(vars(klass).get(attr, ()))
        return sorted(keys)

    def _check_cfg_keys(self, cfg: Optional[Dict], name: str) -> None:
        """Refuse a ``train_cfg`` / ``test_cfg`` that is not a dict or holds a key no part of the class reads."""
        if cfg is None:
            return
        if not isinstance(cfg, dict):
            raise TypeError(f'{type(self).__name__}: {name} must be a dict (or None), got {type(cfg).__name__}')
        known = self.known_cfg_keys(name)
        unknown = [key for key in cfg if key not in known]
        if unknown:
            hints = [f'{key!r} (did you mean {close[0]!r}?)' if close else repr(key)
                     for key in unknown for close in [difflib.get_close_matches(str(key), known, n=1)]]
            raise UnknownConfigKeyError(f'unknown {name} key(s) {", ".join(hints)} for {type(self).__name__}; known '
                                        f'{name} keys: {", ".join(known)}')

    @staticmethod
    def _heatmap_generator(cfg: Dict, name: str) -> Optional[HeatmapGenerator]:
        heatmap_cfg = cfg.get('heatmap')
        if heatmap_cfg is None:
            return None
        if not isinstance(heatmap_cfg, dict):
            raise TypeError(f'{name} heatmap={heatmap_cfg!r}: give a dict of GeneratePoseTarget arguments, e.g. '
                            'dict(sigma=0.6, with_kp=True, with_limb=False)')
        return HeatmapGenerator(**heatmap_cfg)

    def keypoints_to_imgs(self, inputs: Dict[str, Any], train: bool) -> torch.Tensor:
        """Draw ``imgs`` [B, num_clips (x2 with double), C, T, H, W] from compact keypoints, on the model's device.

        Args:
            inputs (dict): ``keypoint`` [B, num_clips, M, T, V, 2], ``keypoint_score`` [B, num_clips, M, T, V]
                (optional) and ``img_shape`` ([B, 2] or (H, W)), as `FormatCompactKeypoints` gives them.
            train (bool): use ``train_cfg['heatmap']`` (else ``test_cfg['heatmap']``).
        """
        generator = self.train_heatmap if train else self.test_heatmap
        if generator is None:
            cfg_name = 'train_cfg' if train else 'test_cfg'
            raise ValueError(f'{type(self).__name__} got keypoints instead of imgs but {cfg_name} has no "heatmap"; '
                             f'add {cfg_name}=dict(heatmap=dict(sigma=0.6, ...)) (GeneratePoseTarget arguments) to '
                             'the model config, or draw the heatmaps in the pipeline')
        missing = [key for key in ('keypoint', 'img_shape') if key not in inputs]
        if missing:
            raise KeyError(f'{type(self).__name__}: drawing heatmaps needs {missing}; the pipeline must Collect '
                           f'{list(KEYPOINT_INPUTS)} (see FormatCompactKeypoints)')
        param = next(self.parameters(), None)
        device = param.device if param is not None else torch.as_tensor(inputs['keypoint']).device
        keypoint = torch.as_tensor(inputs['keypoint']).to(device)
        score = inputs.get('keypoint_score')
        score = None if score is None else torch.as_tensor(score).to(device)
        return generator(keypoint, score, inputs['img_shape'])

    @property
    def with_cls_head(self) -> bool:
        """Whether the recognizer has a classification head."""
        return getattr(self, 'cls_head', None) is not None

    @property
    def with_neck(self) -> bool:
        """Whether the recognizer has a neck."""
        return getattr(self, 'neck', None) is not None

    def _check_imgs(self, imgs: torch.Tensor) -> None:
        """Refuse anything but a batch of clips [B, num_clips, C, T, H, W]."""
        if imgs.dim() != 6:
            raise ValueError(f'{type(self).__name__} expects imgs of shape [B, num_clips, C, T, H, W], got '
                             f'{tuple(imgs.shape)}; use FormatShape(input_format="NCTHW_Heatmap")')

    def _check_labels(self, label: torch.Tensor) -> torch.Tensor:
        """Labels [] / [B] / [B, 1] -> [B]; soft labels [B, num_classes] pass as they are. Subclasses check more."""
        if label.dim() == 0:
            return label.view(1)
        return label.view(-1) if label.dim() == 2 and label.shape[1] == 1 else label

    def _clip_labels(self, label: torch.Tensor, batch: int, num_clips: int) -> torch.Tensor:
        """The labels of a batch of B samples -> one row per clip [B * num_clips, ...] (clips of a sample are
        consecutive), checked by ``_check_labels`` and against the batch size."""
        labels = self._check_labels(torch.as_tensor(label))
        if labels.shape[0] != batch:
            raise ValueError(f'{type(self).__name__}: label of shape {tuple(torch.as_tensor(label).shape)} does not '
                             f'match the batch of {batch} samples')
        return labels.repeat_interleave(num_clips, dim=0) if num_clips > 1 else labels

    def init_weights(self) -> None:
        """Initialise the backbone, neck and head (each through its own ``init_weights``)."""
        for name in ('backbone', 'neck', 'cls_head'):
            part = getattr(self, name, None)
            if part is not None and hasattr(part, 'init_weights'):
                part.init_weights()

    def extract_feat(self, imgs: torch.Tensor) -> torch.Tensor:
        """Backbone (then neck) features of a batch of clips, e.g. [N, C, T, H, W] -> [N, C', T', H', W']."""
        if self.backbone is None:
            raise RuntimeError(f'{type(self).__name__} has no backbone; give one in the model config')
        x = self.backbone(imgs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def average_clip(self, cls_score: torch.Tensor, num_segs: Optional[int] = None) -> torch.Tensor:
        """Combine the scores of the clips of each sample as ``test_cfg['average_clips']`` says.

        'prob': softmax over classes, then mean over clips; 'score': mean of the raw scores; None: no
        averaging (the input is returned as it is).

        Args:
            cls_score (Tensor): [B, num_segs, num_classes], or [B * num_segs, num_classes] with ``num_segs``.
            num_segs (int, optional): clips per sample, needed for 2-D scores.

        Returns:
            Tensor: [B, num_classes] ('prob' and 'score').
        """
        average_clips = self.test_cfg.get('average_clips', 'prob')
        if average_clips not in AVERAGE_CLIPS:
            raise ValueError(f"test_cfg average_clips={average_clips!r}: use 'prob', 'score' or None")
        if average_clips is None:
            return cls_score
        if cls_score.dim() == 2:
            if num_segs is None or cls_score.shape[0] % num_segs:
                raise ValueError(f'average_clip: cannot split scores of shape {tuple(cls_score.shape)} into '
                                 f'num_segs={num_segs} clips per sample')
            cls_score = cls_score.reshape(-1, num_segs, cls_score.shape[-1])
        elif cls_score.dim() != 3:
            raise ValueError(f'average_clip expects [B, num_segs, num_classes] or [B * num_segs, num_classes] '
                             f'scores, got shape {tuple(cls_score.shape)}')
        if average_clips == 'prob':
            cls_score = F.softmax(cls_score, dim=2)
        return cls_score.mean(dim=1)

    @abstractmethod
    def forward_train(self, imgs: torch.Tensor, label: torch.Tensor, **kwargs: Any) -> Dict[str, Any]:
        """Return a dict of losses (keys containing 'loss') and logged metrics, all tensors."""

    @abstractmethod
    def forward_test(self, imgs: torch.Tensor, **kwargs: Any) -> np.ndarray:
        """Return class scores [B, num_classes] as a numpy array."""

    def forward(self, imgs: Optional[torch.Tensor] = None, label: Optional[torch.Tensor] = None,
                return_loss: bool = True, **kwargs: Any) -> Union[Dict[str, Any], np.ndarray]:
        """Training (``return_loss=True``, needs ``label``): dict of losses; testing: numpy scores.

        Without ``imgs``, the keyword arguments ``keypoint``, ``keypoint_score`` and ``img_shape`` are turned
        into ``imgs`` first (see `keypoints_to_imgs`); they are not passed on.
        """
        if imgs is None:
            if 'keypoint' not in kwargs:
                raise ValueError(f'{type(self).__name__}.forward needs `imgs` (or `keypoint` with the heatmap '
                                 'option of train_cfg / test_cfg)')
            inputs = {key: kwargs.pop(key) for key in KEYPOINT_INPUTS if key in kwargs}
            imgs = self.keypoints_to_imgs(inputs, train=return_loss)
        if return_loss:
            if label is None:
                raise ValueError(f'{type(self).__name__}.forward(return_loss=True) needs `label`; pass the '
                                 'labels, or return_loss=False for inference')
            return self.forward_train(imgs, label, **kwargs)
        return self.forward_test(imgs, **kwargs)

    def forward_dummy(self, imgs: torch.Tensor) -> Tuple[torch.Tensor]:
        """Plain tensor forward for FLOPs counting: [B, num_clips, ...] -> (class scores or features, )."""
        x = self.extract_feat(imgs.reshape((-1, ) + tuple(imgs.shape[2:])))
        return (self.cls_head(x), ) if self.with_cls_head else (x, )

    @staticmethod
    def _parse_losses(losses: Dict[str, Any]) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Sum the losses and prepare the logged values.

        Every key containing 'loss' is added to the total; other keys are logged metrics. A value is a tensor
        (averaged) or a list / tuple of tensors (their averages are summed). Logged values are averaged over
        the distributed ranks when a process group is initialised, and converted to Python floats.

        Returns:
            tuple[Tensor, dict[str, float]]: the total loss (with its graph) and the logged values,
            including 'loss'.
        """
        log_vars = OrderedDict()
        for name, value in losses.items():
            if isinstance(value, torch.Tensor):
                log_vars[name] = value.float().mean()
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
                log_vars[name] = sum(v.float().mean() for v in value)
            else:
                raise TypeError(f'loss dict entry {name!r} is a {type(value).__name__} ({value!r}); every entry '
                                'must be a tensor or a non-empty list of tensors')
        loss_names = [name for name in log_vars if 'loss' in name]
        if not loss_names:
            raise ValueError(f'the loss dict has no entry whose key contains "loss" (keys: {list(log_vars)}); '
                             'forward_train must return at least one loss')
        loss = sum(log_vars[name] for name in loss_names)
        log_vars['loss'] = loss

        distributed = dist.is_available() and dist.is_initialized()
        world_size = dist.get_world_size() if distributed else 1
        for name, value in log_vars.items():
            value = value.detach().clone()
            if distributed:
                dist.all_reduce(value.div_(world_size))
            log_vars[name] = value.item()
        return loss, log_vars

    def _step(self, data_batch: Dict[str, Any]) -> Dict[str, Any]:
        if 'imgs' in data_batch:
            inputs = dict(imgs=data_batch['imgs'])
        elif 'keypoint' in data_batch:
            inputs = {key: data_batch[key] for key in KEYPOINT_INPUTS if key in data_batch}
        else:
            raise KeyError(f'the data batch has no "imgs" (keys: {sorted(data_batch)}); the pipeline must '
                           'Collect "imgs" and "label" (or "keypoint", "keypoint_score", "img_shape" and "label" '
                           'with the heatmap option)')
        missing = [key for key in self.aux_info if key not in data_batch]
        if missing:
            raise KeyError(f'train_cfg aux_info names {missing} but the data batch only has {sorted(data_batch)}')
        kwargs = {key: data_batch[key] for key in self.aux_info}
        kwargs.update(inputs)
        losses = self(label=data_batch.get('label'), return_loss=True, **kwargs)
        loss, log_vars = self._parse_losses(losses)
        num_samples = len(inputs['imgs'] if 'imgs' in inputs else inputs['keypoint'])
        return dict(loss=loss, log_vars=log_vars, num_samples=num_samples)

    def train_step(self, data_batch: Dict[str, Any], optimizer: Any = None, **kwargs: Any) -> Dict[str, Any]:
        """One training iteration's forward, as the mmcv runner expects (its optimizer hook does backward).

        Args:
            data_batch (dict): ``imgs``, ``label`` and the keys in ``train_cfg['aux_info']``.
            optimizer: unused here (the runner's optimizer hook steps it).

        Returns:
            dict: ``loss`` (Tensor to back-propagate), ``log_vars`` (dict of floats), ``num_samples`` (int).
        """
        return self._step(data_batch)

    def val_step(self, data_batch: Dict[str, Any], optimizer: Any = None, **kwargs: Any) -> Dict[str, Any]:
        """Like ``train_step`` but without building a graph."""
        with torch.no_grad():
            return self._step(data_batch)
