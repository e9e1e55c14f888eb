"""Model registries. pyskl keeps one registry for every model part; the names below are aliases of it."""
from mmcv.cnn import MODELS as MMCV_MODELS
from mmcv.utils import Registry

from ..utils.registry import build_with_known_types

MODELS = Registry('model', parent=MMCV_MODELS)
BACKBONES = MODELS
HEADS = MODELS
RECOGNIZERS = MODELS
LOSSES = MODELS


def build_backbone(cfg):
    """Build a backbone from a config dict."""
    return build_with_known_types(cfg, BACKBONES)


def build_head(cfg):
    """Build a head from a config dict."""
    return build_with_known_types(cfg, HEADS)


def build_recognizer(cfg, train_cfg=None, test_cfg=None):
    """Build a recognizer; ``train_cfg`` / ``test_cfg`` given here override those inside ``cfg``."""
    cfg = dict(cfg)
    if train_cfg is not None:
        cfg['train_cfg'] = train_cfg
    if test_cfg is not None:
        cfg['test_cfg'] = test_cfg
    return build_with_known_types(cfg, RECOGNIZERS)


def build_loss(cfg):
    """Build a loss module from a config dict."""
    return build_with_known_types(cfg, LOSSES)


def build_model(cfg, train_cfg=None, test_cfg=None):
    """Build a whole model (a recognizer) from the ``model`` part of a config."""
    return build_recognizer(cfg, train_cfg, test_cfg)
