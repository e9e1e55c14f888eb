"""The test-mode pipelines reproduce the outputs recorded from pyskl (../shared/compat/pyskl_golden.pkl.gz)."""
import copy

import numpy as np
import pytest
import torch
from conftest import load_golden

from pyskl.datasets.pipelines import Compose

GOLDEN = load_golden()
NAMES = [entry['name'] for entry in GOLDEN['pipelines']] if GOLDEN else []


def as_array(value):
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return np.asarray(value)


@pytest.mark.parametrize('name', NAMES)
def test_pipeline_matches_pyskl(name):
    entry = next(entry for entry in GOLDEN['pipelines'] if entry['name'] == name)
    results = copy.deepcopy(entry['input'])
    results.update(start_index=0, modality='Pose', test_mode=True)
    out = Compose(copy.deepcopy(entry['pipeline']))(results)
    assert entry['output'], name
    for key, expected in entry['output'].items():
        actual = as_array(out[key])
        expected = np.asarray(expected)
        assert actual.shape == expected.shape, (name, key)
        if np.issubdtype(expected.dtype, np.integer):
            np.testing.assert_array_equal(actual, expected, err_msg=f'{name}: {key}')
        else:
            np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5, err_msg=f'{name}: {key}')
    if 'img_shape' in entry['output']:
        assert all(isinstance(v, int) for v in out['img_shape']), name


def test_golden_covers_every_kind(golden):
    kinds = {entry['name'].rstrip('0123456789') for entry in golden['pipelines']}
    assert {'compact', 'resize_short', 'resize_square', 'flip', 'heatmap_kp', 'heatmap_limb', 'heatmap_double'} <= kinds


def test_golden_heatmaps_are_not_trivial(golden):
    for entry in golden['pipelines']:
        if 'imgs' in entry['output']:
            assert entry['output']['imgs'].max() > 0.5, entry['name']
