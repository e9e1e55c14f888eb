from .base import BaseRecognizer
from .recognizer3d import Recognizer3D

__all__ = ['BaseRecognizer', 'Recognizer3D']
