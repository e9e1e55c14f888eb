from .builder import (
                      BACKBONES,
                      HEADS,
                      LOSSES,
                      MODELS,
                      RECOGNIZERS,
                      build_backbone,
                      build_head,
                      build_loss,
                      build_model,
                      build_recognizer,
)
from .cnns import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403

__all__ = [
    'MODELS', 'BACKBONES', 'HEADS', 'RECOGNIZERS', 'LOSSES', 'build_backbone', 'build_head', 'build_recognizer',
    'build_loss', 'build_model'
]
