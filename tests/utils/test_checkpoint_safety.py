"""No checkpoint runs code: every loading path refuses a payload that would create a marker file.

The payloads are real: the last tests show that full unpickling (the explicit opt-in) and mmcv's
``Config.fromstring`` (what mmcv's ``resume`` calls on ``meta['config']``) do create the marker.
"""
import logging
import pickle

import pytest
import torch
from mmcv import Config

from pyskl.apis.train import find_resume_checkpoint
from pyskl.core.runner import EpochRunner
from pyskl.utils.checkpoint import CheckpointError, load_checkpoint, load_checkpoint_file, unsafe_load

pytestmark = pytest.mark.filterwarnings('ignore:Detected pickle protocol')


class Payload:
    """Unpickling this object opens (creates) ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def evil_checkpoint(path, marker, plain_pickle=False):
    obj = dict(state_dict=dict(weight=torch.zeros(2, 2)), meta=dict(epoch=1, iter=1), extra=Payload(marker))
    if plain_pickle:
        with open(path, 'wb') as f:
            pickle.dump(obj, f)
    else:
        torch.save(obj, path)
    return str(path)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / 'marker'
    yield path


@pytest.mark.parametrize('plain_pickle', [False, True])
def test_the_loader_refuses_payloads(tmp_path, marker, plain_pickle):
    path = evil_checkpoint(tmp_path / 'evil.pth', marker, plain_pickle)
    with pytest.raises(CheckpointError, match='safe loader refuses') as err:
        load_checkpoint_file(path)
    assert path in str(err.value) and '--unsafe-load' in str(err.value)
    assert not marker.exists()


def test_load_from_refuses_payloads(tmp_path, marker):
    path = evil_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointError):
        load_checkpoint(torch.nn.Linear(2, 2), path)
    assert not marker.exists()


class TinyModel(torch.nn.Linear):
    """What the runner needs of a model: a ``train_step``."""

    def train_step(self, data, optimizer):
        return dict(loss=self(data).sum(), log_vars={}, num_samples=len(data))


def make_runner(tmp_path):
    model = TinyModel(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return EpochRunner(model, optimizer=optimizer, work_dir=str(tmp_path), logger=logging.getLogger('pyskl'),
                       meta={}, max_epochs=2)


def test_resume_refuses_payloads(tmp_path, marker):
    path = evil_checkpoint(tmp_path / 'epoch_1.pth', marker)
    with pytest.raises(CheckpointError):
        make_runner(tmp_path).resume(path)
    assert not marker.exists()


def test_auto_resume_refuses_payloads(tmp_path, marker):
    evil_checkpoint(tmp_path / 'epoch_1.pth', marker)
    (tmp_path / 'latest.pth').symlink_to('epoch_1.pth')
    with pytest.raises(CheckpointError, match='none can be read'):
        find_resume_checkpoint(str(tmp_path))
    assert not marker.exists()


CONFIG_PAYLOAD = "marker = open({marker!r}, 'w')\ngpu_ids = [0]\n"


def test_resume_never_executes_the_config_in_the_metadata(tmp_path, marker):
    runner = make_runner(tmp_path)
    runner.meta = dict(config=CONFIG_PAYLOAD.format(marker=str(marker)))
    runner.save_checkpoint(str(tmp_path))  # a checkpoint of plain data: the weights-only loader accepts it
    fresh = make_runner(tmp_path)
    fresh.resume(str(tmp_path / 'latest.pth'))
    assert fresh.epoch == 1 and torch.equal(fresh.model.weight, runner.model.weight)
    assert not marker.exists()
    # the same text is live code for mmcv's resume, which parses it with Config.fromstring
    Config.fromstring(CONFIG_PAYLOAD.format(marker=str(marker)), file_format='.py')
    assert marker.exists()


def test_backbone_pretrained_refuses_payloads(tmp_path, marker):
    from pyskl.models.cnns.resnet3d_slowonly import ResNet3dSlowOnly
    path = evil_checkpoint(tmp_path / 'evil.pth', marker)
    backbone = ResNet3dSlowOnly(in_channels=17, base_channels=4, num_stages=3, out_indices=(2, ),
                                stage_blocks=(1, 1, 1), conv1_stride=(1, 1), pool1_stride=(1, 1),
                                inflate=(0, 1, 1), spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2),
                                pretrained=path)
    with pytest.raises(CheckpointError, match='safe loader refuses'):
        backbone.init_weights()
    assert not marker.exists()


def test_full_unpickling_only_with_the_explicit_opt_in(tmp_path, marker):
    path = evil_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointError):
        load_checkpoint_file(path)
    assert not marker.exists()
    with unsafe_load():
        load_checkpoint_file(path)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError):  # the opt-in ended with the block
        load_checkpoint_file(path)
    assert not marker.exists()
