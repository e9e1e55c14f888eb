from .base import BaseDataset
from .builder import DATASETS, PIPELINES, build_dataloader, build_dataset
from .dataset_wrappers import ConcatDataset, RepeatDataset
from .errors import AnnotationError
from .pipelines import *  # noqa: F401,F403
from .pose_dataset import PoseDataset
from .synthetic import SYNTHETIC_CLASSES, generate_synthetic_dataset, write_synthetic_dataset

__all__ = [
    'DATASETS', 'PIPELINES', 'build_dataset', 'build_dataloader', 'BaseDataset', 'PoseDataset', 'RepeatDataset',
    'ConcatDataset', 'AnnotationError', 'SYNTHETIC_CLASSES', 'generate_synthetic_dataset', 'write_synthetic_dataset'
]
