"""Pipeline steps refuse arguments that would silently do something else: a probability outside [0, 1] for
`Flip`, a bare string for the key lists of `Collect` / `ToTensor` (read letter by letter)."""
import pytest

from pyskl.datasets.pipelines import Collect, Compose, Flip, ToTensor


@pytest.mark.parametrize('ratio', [-0.1, 1.5, 2, '0.5', True])
def test_flip_ratio_must_be_a_probability(ratio):
    with pytest.raises(ValueError, match=r'Flip: flip_ratio is a probability in \[0, 1\]'):
        Flip(flip_ratio=ratio)


@pytest.mark.parametrize('ratio', [0, 0.5, 1])
def test_flip_ratio_in_range_is_kept(ratio):
    assert Flip(flip_ratio=ratio).flip_ratio == ratio


@pytest.mark.parametrize('step, kwargs, name', [
    (Collect, dict(keys='imgs'), 'keys'),
    (Collect, dict(keys=['imgs'], meta_keys='label'), 'meta_keys'),
    (ToTensor, dict(keys='imgs'), 'keys'),
    (ToTensor, dict(keys=['imgs', 3]), 'keys'),
])
def test_key_lists_must_be_lists_of_names(step, kwargs, name):
    with pytest.raises(TypeError, match=f'{step.__name__}: {name} must be a list of key names'):
        step(**kwargs)


def test_a_config_step_with_a_string_key_is_named():
    with pytest.raises(TypeError, match=r"Collect: keys must be a list of key names, e.g. \['imgs'\]"):
        Compose([dict(type='Collect', keys='imgs', meta_keys=[])])
    assert Collect(keys=('imgs', 'label'), meta_keys=()).keys == ['imgs', 'label']
