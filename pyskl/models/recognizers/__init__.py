from .base import BaseRecognizer, model_num_classes
from .recognizer3d import Recognizer3D
from .text_branch import ClassTextBranch
from .visece import RecognizerVisece, ResidualMLPEmbedder, build_embedder
from .visece_itm import RecognizerViseceITM
from .visece_mo import RecognizerViseceMo
from .visece_pacl import RecognizerVisecePACL
from .zero_shot import ClassSubsetScoring, restrict_to_classes

__all__ = [
    'BaseRecognizer', 'model_num_classes', 'Recognizer3D', 'ClassTextBranch', 'RecognizerVisece',
    'ResidualMLPEmbedder', 'build_embedder', 'RecognizerViseceITM', 'RecognizerVisecePACL', 'RecognizerViseceMo',
    'ClassSubsetScoring', 'restrict_to_classes'
]
