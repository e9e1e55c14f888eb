from .builder import DATASETS, PIPELINES, build_dataloader, build_dataset
from .pipelines import *  # noqa: F401,F403

__all__ = ['DATASETS', 'PIPELINES', 'build_dataset', 'build_dataloader']
