"""Inference on single pose samples: build a recognizer from a config (and checkpoint), score a clip.

    model = init_recognizer('configs/demo/visece_minilm_synthetic.py', 'work_dirs/demo/.../latest.pth')
    inference_recognizer(model, sample)                                  # top-5 class sentences
    inference_recognizer(model, sample, sentences=['a person jumps'])    # open vocabulary (text recognizers)

A sample is one pyskl annotation dict (``keypoint [M, T, V, 2]``, ``keypoint_score [M, T, V]``, ``img_shape``,
optionally ``total_frames``, ``frame_dir``, ``label``). It goes through the config's test pipeline
(``cfg.data.test.pipeline``) exactly as the test set's samples do, without building a dataset or needing a split.

Open vocabulary: a text-supervised recognizer (one with a ``text_branch``) classifies a clip by comparing it with
the embeddings of its class sentences. :func:`sentence_vocabulary` temporarily replaces those sentences with any
others, encoded by the model's own text branch, so the model's own ``forward_test`` scores the clip against them;
with the class sentences this gives exactly the scores of ``tools/test.py``.
"""
import contextlib
import copy
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv import Config
from mmcv.parallel import collate

from ..datasets.pipelines import Compose
from ..models import build_model
from ..utils import get_root_logger
from ..utils.checkpoint import load_checkpoint
from ..utils.config_check import build_or_explain
from ..utils.config_check import load_config as checked_config

__all__ = ['CheckpointMismatchError', 'init_recognizer', 'inference_recognizer', 'prepare_sample',
           'sentence_vocabulary', 'class_names_of', 'load_config']



class CheckpointMismatchError(RuntimeError):
    """`init_recognizer`: the checkpoint cannot be loaded into the config's model (the message says why)."""


# input keys a recognizer's forward takes from a test batch (heatmap volumes, or compact keypoints)
FORWARD_KEYS = ('imgs', 'keypoint', 'keypoint_score', 'img_shape')


def load_config(config: Union[str, os.PathLike, Config], cfg_options: Optional[dict] = None) -> Config:
    """A config file path (or an mmcv Config, copied) with ``cfg_options`` merged in."""
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'config {path} does not exist; give the path of a config file (configs/...)')
        # the checks of the train and test tools: misspelt keys, wrong value types, syntax errors
        cfg = checked_config(path, cfg_options)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    else:
        raise TypeError(f'config must be a file path or an mmcv Config, got {type(config).__name__}')
    if 'model' not in cfg:
        raise KeyError(f'config {getattr(cfg, "filename", "<Config>")} has no `model` entry')
    return cfg


def _drop_pretrained(model_cfg: dict) -> None:
    """Weights come from the checkpoint: do not load the backbone's ``pretrained`` file as well."""
    for part in ('backbone', 'video_encoder'):
        sub = model_cfg.get(part)
        if isinstance(sub, dict) and sub.get('pretrained'):
            sub['pretrained'] = None


def _without_hub_text_weights(model_cfg: dict) -> Optional[dict]:
    """The model config without its Hugging Face text encoder weights, when a checkpoint can stand in for them.

    Only for an explicit text encoder architecture (``text_encoder=dict(config=...)``) initialised from an uncased
    BERT name (``'bert-base-uncased'``): its vocabulary is the one packaged offline, so the tokenizer stays the same.
    None when that does not hold.
    """
    from ..models.text.tokenizer import UNCASED_BERT_NAMES
    init = model_cfg.get('text_encoder_init', 'bert-base-uncased')
    spec = model_cfg.get('text_encoder')
    if not isinstance(init, str) or init not in UNCASED_BERT_NAMES or not isinstance(spec, dict) or \
            not spec.get('config'):
        return None
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg['text_encoder_init'] = None
    model_cfg.setdefault('tokenizer', init)
    return model_cfg


def init_recognizer(config: Union[str, os.PathLike, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cpu',
                    cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the recognizer of ``config``, load ``checkpoint`` (weights only) and put it in eval mode on ``device``.

    Args:
        config (str | Config): config file or Config.
        checkpoint (str, optional): checkpoint file; every weight of the model must be in it (a checkpoint of
            another model is refused with the missing / unexpected keys). None: the model's initial weights. With a
            checkpoint, ``pretrained`` backbone files are not read, and a text encoder whose ``bert-base-uncased``
            weights are not available offline is built without them (the checkpoint holds its trained weights).
        device (str | torch.device): e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): config overrides, as ``--cfg-options`` gives them.

    Returns:
        nn.Module: the recognizer, with ``cfg`` (the config) attached.
    """
    cfg = load_config(config, cfg_options)
    model_cfg = copy.deepcopy(cfg.model)
    if checkpoint is not None:
        _drop_pretrained(model_cfg)
    try:
        model = build_or_explain(build_model, model_cfg, getattr(cfg, 'filename', '<Config>'), 'model')
    except FileNotFoundError as e:
        # the text encoder's pretrained weights are not available offline, but the checkpoint holds trained ones
        fallback = _without_hub_text_weights(model_cfg) if checkpoint is not None else None
        if fallback is None:
            raise
        get_root_logger().warning(f'{e}\nThe text encoder weights come from the checkpoint {checkpoint} instead.')
        model = build_model(fallback)
    if checkpoint is not None:
        try:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        except RuntimeError as e:
            raise CheckpointMismatchError(f'checkpoint {checkpoint} does not fit the model of config '
                               f'{getattr(cfg, "filename", "<Config>")}: {e}\nUse the checkpoint trained with this '
                               'config.') from e
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def _test_pipeline(cfg: Config) -> list:
    data = cfg.get('data', {})
    test = data.get('test') if isinstance(data, dict) else None
    if isinstance(test, dict) and test.get('type') in ('RepeatDataset', 'ConcatDataset') and 'pipeline' not in test:
        test = test.get('dataset') or (test.get('datasets') or [None])[0]
    pipeline = test.get('pipeline') if isinstance(test, dict) else None
    if not pipeline:
        raise KeyError(f'config {getattr(cfg, "filename", "<Config>")} has no data.test.pipeline; inference runs '
                       'a sample through the test pipeline')
    return copy.deepcopy(list(pipeline))


def _check_sample(sample: Dict[str, Any]) -> str:
    name = str(sample.get('frame_dir', '<sample>')) if isinstance(sample, dict) else '<sample>'
    if not isinstance(sample, dict):
        raise TypeError(f'a pose sample is a dict (keypoint, keypoint_score, img_shape, ...), got '
                        f'{type(sample).__name__}')
    if 'keypoint' not in sample:
        raise KeyError(f'sample {name!r} has no "keypoint" [M, T, V, 2]; it has {sorted(sample)}')
    kp = np.asarray(sample['keypoint'])
    if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        raise ValueError(f'sample {name!r}: keypoint must be [M, T, V, 2] (or [M, T, V, 3] for 3D), got shape '
                         f'{kp.shape}')
    for field in ('keypoint', 'keypoint_score'):
        if field not in sample:
            continue
        arr = np.asarray(sample[field])
        if arr.dtype.kind not in 'fiu':
            raise ValueError(f'sample {name!r}: {field} has dtype {arr.dtype}, expected a numeric (float32) array')
        if arr.dtype.kind == 'f' and not np.isfinite(arr).all():
            raise ValueError(f'sample {name!r}: {field} has {int(np.isnan(arr).sum())} NaN and '
                             f'{int(np.isinf(arr).sum())} inf values (of {arr.size}); mark missing joints with '
                             'coordinates 0 and score 0 instead')
    if 'keypoint_score' in sample and np.asarray(sample['keypoint_score']).shape != kp.shape[:3]:
        raise ValueError(f'sample {name!r}: keypoint_score must be [M, T, V] = {kp.shape[:3]}, got '
                         f'{np.asarray(sample["keypoint_score"]).shape}')
    if kp.shape[-1] == 2 and 'img_shape' not in sample:
        raise KeyError(f'sample {name!r} has 2D keypoints but no "img_shape" (height, width); add it')
    if 'total_frames' in sample and int(sample['total_frames']) != kp.shape[1]:
        raise ValueError(f'sample {name!r}: total_frames={sample["total_frames"]} but keypoint has {kp.shape[1]} '
                         'frames')
    return name


def prepare_sample(cfg: Config, sample: Dict[str, Any], pipeline: Optional[Sequence] = None) -> Dict[str, Any]:
    """Run one pose sample through the config's test pipeline; returns the batch of one (``imgs`` [1, ...]).

    The dataset-level keys a sample gets in a dataset (``modality``, ``start_index``, ``test_mode``) are added;
    ``total_frames`` defaults to the keypoints' length, ``original_shape`` to ``img_shape``; a sample without a
    ``label`` gets -1 (it is not used by inference).
    """
    _check_sample(sample)
    results = copy.deepcopy(dict(sample))
    results.setdefault('total_frames', int(np.asarray(results['keypoint']).shape[1]))
    if 'img_shape' in results:
        results.setdefault('original_shape', tuple(results['img_shape']))
    results.setdefault('label', -1)
    results['modality'] = 'Pose'
    results['start_index'] = 0
    results['test_mode'] = True
    compose = Compose(list(pipeline) if pipeline is not None else _test_pipeline(cfg))
    data = compose(results)
    return collate([data], samples_per_gpu=1)


def _model_device(model: torch.nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


def _forward_inputs(model: torch.nn.Module, batch: Dict[str, Any]) -> Dict[str, Any]:
    device = _model_device(model)
    inputs = {}
    for key in FORWARD_KEYS:
        if key in batch:
            value = batch[key]
            inputs[key] = value.to(device) if isinstance(value, torch.Tensor) else value
    if not inputs:
        raise KeyError(f'the test pipeline gave {sorted(batch)}; it must Collect "imgs" (or the compact keypoints)')
    return inputs


def class_names_of(model: torch.nn.Module) -> Optional[List[str]]:
    """The class sentences of a text-supervised recognizer (None for a recognizer without text branch)."""
    branch = getattr(model, 'text_branch', None)
    return list(branch.class_names) if branch is not None else None


@contextlib.contextmanager
def sentence_vocabulary(model: torch.nn.Module, sentences: Sequence[str]) -> Iterator[torch.nn.Module]:
    """Within the block, ``model`` scores clips against ``sentences`` instead of its class sentences.

    The sentences are tokenized by the model's tokenizer (to the model's ``max_length``, longer when a sentence
    needs more tokens: padding is masked, so the class sentences keep their exact embeddings) and replace the class
    token buffers of its text branch; ``test_cfg['class_subset']`` is lifted (it names class ids). Everything is
    restored on exit.
    """
    branch = getattr(model, 'text_branch', None)
    if branch is None:
        raise TypeError(f'{type(model).__name__} has no text branch, so it cannot score sentences; open-vocabulary '
                        'inference needs a text-supervised recognizer (RecognizerVisece, ...ITM, ...Mo, ...PACL)')
    if isinstance(sentences, str):
        sentences = [sentences]
    sentences = [str(s) for s in sentences]
    if not sentences or any(not s.strip() for s in sentences):
        raise ValueError(f'sentences must be non-empty strings, got {sentences!r}')
    longest = max(len(branch.tokenizer.tokenizer(s)['input_ids']) for s in sentences)
    length = max(branch.max_length, longest)
    tokens = branch.tokenizer.tokenize_sentences(sentences, max_length=length, device=branch.class_input_ids.device)
    saved = (branch.class_input_ids, branch.class_attention_mask, branch.class_names)
    test_cfg = model.test_cfg
    model.test_cfg = {k: v for k, v in test_cfg.items() if k != 'class_subset'}
    branch.class_input_ids, branch.class_attention_mask = tokens['input_ids'], tokens['attention_mask']
    branch.class_names = list(sentences)
    branch.clear_cache()
    try:
        yield model
    finally:
        branch.class_input_ids, branch.class_attention_mask, branch.class_names = saved
        model.test_cfg = test_cfg
        branch.clear_cache()


def sample_scores(model: torch.nn.Module, sample: Dict[str, Any], sentences: Optional[Sequence[str]] = None) -> \
        np.ndarray:
    """Scores [L] of one sample: against the class list (L classes) or against ``sentences`` (L sentences)."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise AttributeError('the model has no `cfg`; build it with init_recognizer(config, checkpoint)')
    inputs = _forward_inputs(model, prepare_sample(cfg, sample))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if sentences is None:
                scores = model(return_loss=False, **inputs)
            else:
                with sentence_vocabulary(model, sentences):
                    scores = model(return_loss=False, **inputs)
    finally:
        model.train(was_training)
    return np.asarray(scores)[0]


def inference_recognizer(model: torch.nn.Module,
                         sample: Dict[str, Any],
                         sentences: Optional[Sequence[str]] = None,
                         topk: int = 5) -> List[tuple]:
    """The top-k (label, score) pairs of one pose sample, best first.

    Args:
        model: a recognizer from :func:`init_recognizer`.
        sample (dict): a pyskl annotation dict (``keypoint``, ``keypoint_score``, ``img_shape``, ...).
        sentences (Sequence[str], optional): score the clip against these sentences (text recognizers only); the
            labels are then the sentences. None: the class list (labels are class indices).
        topk (int): how many pairs (at most the number of classes / sentences).

    Returns:
        list[tuple]: ``(class index or sentence, score)`` with Python values; the scores are the model's test
        scores (class probabilities with ``average_clips='prob'``).
    """
    if int(topk) < 1:
        raise ValueError(f'topk must be at least 1, got {topk}')
    scores = sample_scores(model, sample, sentences)
    order = np.argsort(-scores, kind='stable')[:int(topk)]
    if sentences is not None:
        names = [sentences] if isinstance(sentences, str) else list(sentences)
        return [(names[i], float(scores[i])) for i in order]
    return [(int(i), float(scores[i])) for i in order]
