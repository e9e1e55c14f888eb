"""The registries of the data side: ``DATASETS`` (dataset classes) and ``PIPELINES`` (pipeline steps).

Every dataset and pipeline module registers itself here, and `builder` builds from here; the registries import
nothing of the package, so no module of ``pyskl.datasets`` imports in a circle.
"""
from mmcv.utils import Registry

DATASETS = Registry('dataset')
PIPELINES = Registry('pipeline')
