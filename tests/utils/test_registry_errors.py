"""Unknown type names in a config fail with the list of known ones, for every registry."""
import pytest

from pyskl.datasets import build_dataset
from pyskl.datasets.pipelines import Compose
from pyskl.models import build_backbone, build_loss, build_model


def test_unknown_recognizer_lists_known_types():
    with pytest.raises(KeyError) as err:
        build_model(dict(type='Recognizer3X', backbone=dict(type='ResNet3dSlowOnly')))
    message = str(err.value)
    assert "unknown model type 'Recognizer3X'" in message
    for known in ('Recognizer3D', 'RecognizerVisece', 'RecognizerViseceITM', 'RecognizerViseceMo',
                  'RecognizerVisecePACL'):
        assert known in message


def test_unknown_backbone_inside_a_recognizer_names_it():
    with pytest.raises(KeyError, match="unknown model type 'ResNet3dFastOnly'.*ResNet3dSlowOnly"):
        build_model(dict(type='Recognizer3D', backbone=dict(type='ResNet3dFastOnly'),
                         cls_head=dict(type='I3DHead', in_channels=8, num_classes=2)))


def test_unknown_loss_and_backbone_builders():
    with pytest.raises(KeyError, match='CrossEntropyLoss'):
        build_loss(dict(type='CrossEntropyLos'))
    with pytest.raises(KeyError, match='Visece_Video'):
        build_backbone(dict(type='Visece_Vide'))


def test_missing_type_key_is_reported():
    with pytest.raises(KeyError, match='no "type" key'):
        build_model(dict(backbone=dict(type='ResNet3dSlowOnly')))


def test_unknown_dataset_and_pipeline_types():
    with pytest.raises(KeyError, match="unknown dataset type 'PoseDatset'.*PoseDataset"):
        build_dataset(dict(type='PoseDatset', ann_file='x.pkl', pipeline=[]))
    with pytest.raises(KeyError, match="unknown pipeline type 'PoseDecod'.*PoseDecode"):
        Compose([dict(type='PoseDecod')])
