"""`pyskl.apis.inference`: a sample with NaN / inf or non-numeric keypoints, and a config with a misspelt key, are
refused by name instead of being scored."""
from pathlib import Path

import numpy as np
import pytest

from pyskl.apis.inference import load_config, prepare_sample
from pyskl.utils.config_check import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(REPO_ROOT / 'configs' / 'demo' / 'posec3d_synthetic.py')


def sample(**changes):
    rng = np.random.default_rng(0)
    ann = dict(frame_dir='clip_7', keypoint=rng.uniform(10, 200, (1, 20, 17, 2)).astype(np.float32),
               keypoint_score=np.ones((1, 20, 17), np.float32), img_shape=(240, 320), total_frames=20)
    ann.update(changes)
    return ann


@pytest.fixture(scope='module')
def cfg():
    return load_config(CONFIG)


def test_a_clean_sample_goes_through_the_test_pipeline(cfg):
    assert prepare_sample(cfg, sample())['imgs'].shape[0] == 1


@pytest.mark.parametrize('field, value, message', [
    ('keypoint', np.nan, r"'clip_7': keypoint has 1 NaN and 0 inf"),
    ('keypoint', np.inf, r"'clip_7': keypoint has 0 NaN and 1 inf"),
    ('keypoint_score', np.nan, r"'clip_7': keypoint_score has 1 NaN"),
])
def test_non_finite_values_are_refused(cfg, field, value, message):
    ann = sample()
    ann[field][(0, 3, 4) if field == 'keypoint_score' else (0, 3, 4, 0)] = value
    with pytest.raises(ValueError, match=message):
        prepare_sample(cfg, ann)


def test_non_numeric_keypoints_are_refused(cfg):
    ann = sample()
    ann['keypoint'] = ann['keypoint'].astype(object)
    with pytest.raises(ValueError, match='keypoint has dtype object'):
        prepare_sample(cfg, ann)


def test_a_config_file_with_a_misspelt_key_is_refused(tmp_path):
    path = tmp_path / 'typo.py'
    path.write_text(f'_base_ = [{CONFIG!r}]\ntotal_epoch = 1\n')
    with pytest.raises(ConfigError, match=r"typo\.py: top-level key 'total_epoch'"):
        load_config(str(path))
    with pytest.raises(ConfigError, match="'total_epochs'"):
        load_config(CONFIG, {'total_epoch': 1})
