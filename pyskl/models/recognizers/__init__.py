from .base import BaseRecognizer
from .recognizer3d import Recognizer3D
from .text_branch import ClassTextBranch
from .visece import RecognizerVisece, ResidualMLPEmbedder, build_embedder

__all__ = [
    'BaseRecognizer', 'Recognizer3D', 'ClassTextBranch', 'RecognizerVisece', 'ResidualMLPEmbedder', 'build_embedder'
]
