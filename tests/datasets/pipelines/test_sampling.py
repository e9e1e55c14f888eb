import numpy as np
import pytest

from pyskl.datasets import PIPELINES
from pyskl.datasets.pipelines import UniformSampleFrames


def sample(total_frames, test_mode, **kwargs):
    results = dict(total_frames=total_frames, start_index=0, test_mode=test_mode)
    return UniformSampleFrames(**kwargs)(results)


def test_golden_test_mode_indices(golden):
    cases = golden['sampling']
    assert len(cases) == 24
    for case in cases:
        sampler = UniformSampleFrames(case['clip_len'], num_clips=case['num_clips'], seed=case['seed'])
        results = sampler(dict(total_frames=case['total_frames'], start_index=0, test_mode=True))
        np.testing.assert_array_equal(
            results['frame_inds'], case['frame_inds'],
            err_msg=f'total_frames={case["total_frames"]} clip_len={case["clip_len"]} num_clips={case["num_clips"]}')


def test_registered_and_sets_fields():
    sampler = PIPELINES.build(dict(type='UniformSampleFrames', clip_len=8, num_clips=3))
    results = sampler(dict(total_frames=50, test_mode=True))
    assert results['frame_inds'].dtype == np.int64
    assert results['frame_inds'].shape == (24, )
    assert results['clip_len'] == 8 and results['num_clips'] == 3
    assert results['frame_interval'] is None


def test_test_mode_is_deterministic_and_reseeds():
    first = sample(100, True, clip_len=16, num_clips=2)['frame_inds']
    np.random.seed(0)
    np.random.rand(5)
    second = sample(100, True, clip_len=16, num_clips=2)['frame_inds']
    np.testing.assert_array_equal(first, second)
    other_seed = sample(100, True, clip_len=16, num_clips=2, seed=1)['frame_inds']
    assert not np.array_equal(first, other_seed)


@pytest.mark.parametrize('total_frames', [1, 3, 7, 8, 12, 16, 17, 40, 301])
@pytest.mark.parametrize('test_mode', [True, False])
def test_indices_in_range_and_shape(total_frames, test_mode):
    np.random.seed(total_frames)
    for p_interval in (1, 0.5, (0.5, 1)):
        inds = sample(total_frames, test_mode, clip_len=8, num_clips=4, p_interval=p_interval)['frame_inds']
        assert inds.shape == (32, )
        assert inds.min() >= 0 and inds.max() < total_frames


def test_long_video_clips_are_increasing_one_per_bucket():
    np.random.seed(3)
    inds = sample(100, False, clip_len=10, num_clips=1)['frame_inds']
    buckets = inds // 10
    np.testing.assert_array_equal(buckets, np.arange(10))


def test_medium_video_gives_distinct_increasing_frames():
    for test_mode in (True, False):
        np.random.seed(1)
        inds = sample(12, test_mode, clip_len=8)['frame_inds']
        assert np.all(np.diff(inds) >= 1)
        assert np.all(np.diff(inds) <= 2)
        assert len(set(inds.tolist())) == 8


def test_short_video_loops_consecutively():
    inds = sample(5, True, clip_len=8, num_clips=1)['frame_inds']
    np.testing.assert_array_equal(inds, [0, 1, 2, 3, 4, 0, 1, 2])
    np.random.seed(4)
    train = sample(5, False, clip_len=8, num_clips=1)['frame_inds']
    np.testing.assert_array_equal(np.diff(train) % 5, np.ones(7))


def test_train_mode_short_start_is_random():
    np.random.seed(0)
    starts = {int(sample(5, False, clip_len=8)['frame_inds'][0]) for _ in range(50)}
    assert len(starts) > 1


def test_train_mode_reproducible_under_seed_and_varies():
    np.random.seed(7)
    first = sample(300, False, clip_len=48, num_clips=2, p_interval=(0.5, 1))['frame_inds']
    third = sample(300, False, clip_len=48, num_clips=2, p_interval=(0.5, 1))['frame_inds']
    np.random.seed(7)
    second = sample(300, False, clip_len=48, num_clips=2, p_interval=(0.5, 1))['frame_inds']
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_p_interval_limits_each_clip_to_a_window():
    np.random.seed(2)
    for _ in range(20):
        inds = sample(200, False, clip_len=16, num_clips=3, p_interval=0.3)['frame_inds'].reshape(3, 16)
        # a window of int(0.3 * 200) = 60 frames, never wrapped
        assert np.all(inds.max(axis=1) - inds.min(axis=1) < 60)
        assert np.all(np.diff(inds, axis=1) > 0)


def test_start_index_and_keypoint_length():
    sampler = UniformSampleFrames(clip_len=4, num_clips=1)
    base = sampler(dict(total_frames=30, test_mode=True))['frame_inds']
    shifted = sampler(dict(total_frames=30, test_mode=True, start_index=1))['frame_inds']
    np.testing.assert_array_equal(shifted, base + 1)
    from_kp = sampler(dict(keypoint=np.zeros((1, 30, 17, 2), np.float32), test_mode=True))['frame_inds']
    np.testing.assert_array_equal(from_kp, base)


@pytest.mark.parametrize('kwargs', [dict(clip_len=0), dict(clip_len=8, num_clips=0), dict(clip_len=8, p_interval=0),
                                    dict(clip_len=8, p_interval=(0.9, 0.5)), dict(clip_len=8, p_interval=1.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        UniformSampleFrames(**kwargs)


def test_empty_or_missing_length_errors():
    sampler = UniformSampleFrames(clip_len=8)
    with pytest.raises(ValueError, match='total_frames'):
        sampler(dict(total_frames=0, frame_dir='clip0'))
    with pytest.raises(KeyError, match='total_frames'):
        sampler(dict(frame_dir='clip0'))
