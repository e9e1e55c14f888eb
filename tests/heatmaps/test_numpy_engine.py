"""The vectorised `GeneratePoseTarget` equals the per-point reference (`draw_point` / `draw_limb` in loops)."""
import numpy as np
import pytest
from heatmap_reference import reference_pose_target

from pyskl.datasets.pipelines import GeneratePoseTarget
from pyskl.heatmaps import COCO_SKELETONS, HEATMAP_EPS, draw_heatmaps

MODES = {'kp': dict(with_kp=True, with_limb=False), 'limb': dict(with_kp=False, with_limb=True),
         'both': dict(with_kp=True, with_limb=True)}
# scores around the drawing threshold: 0 and below it are skipped, the threshold itself is drawn
SCORES = np.array([0., 1e-4, 9.99e-4, HEATMAP_EPS, 2e-3, 0.37, 1.], np.float32)


def random_clip(rng, num_people=2, num_frames=3, img_shape=(24, 32), margin=6., scores=SCORES):
    """Keypoints spread over the image and a margin of ``margin`` pixels around it; scores drawn from ``scores``."""
    height, width = img_shape
    kps = np.stack([rng.uniform(-margin, width + margin, (num_people, num_frames, 17)),
                    rng.uniform(-margin, height + margin, (num_people, num_frames, 17))], axis=-1)
    score = rng.choice(scores, (num_people, num_frames, 17))
    return dict(keypoint=kps.astype(np.float32), keypoint_score=score.astype(np.float32), img_shape=img_shape)


def check(results: dict, **kwargs) -> np.ndarray:
    actual = GeneratePoseTarget(**kwargs)(dict(results))['imgs']
    expected = reference_pose_target(results, **kwargs)
    assert actual.shape == expected.shape and actual.dtype == np.float32
    # joints agree to float rounding; limbs to ~1e-6 (the reference squares the limb length with the C library's
    # powf, which is not always correctly rounded)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)
    return actual


@pytest.mark.parametrize('mode', list(MODES))
@pytest.mark.parametrize('double', [False, True])
@pytest.mark.parametrize('seed', range(4))
def test_random_clips(mode, double, seed):
    rng = np.random.RandomState(seed)
    sigma = [0.6, 0.35, 1.3, 2.2][seed]
    img_shape = [(24, 32), (17, 9), (8, 40), (30, 30)][seed]
    results = random_clip(rng, num_people=1 + seed % 3, num_frames=2 + seed, img_shape=img_shape)
    heatmaps = check(results, sigma=sigma, double=double, **MODES[mode])
    assert heatmaps.max() > 0.3


@pytest.mark.parametrize('mode', list(MODES))
def test_points_outside_the_image(mode):
    rng = np.random.RandomState(10)
    results = random_clip(rng, num_people=2, num_frames=4, img_shape=(20, 20), margin=0., scores=[1.])
    kps = results['keypoint']
    kps[0, :, :9, 0] -= rng.uniform(0.1, 4., (4, 9))  # just left of the image: windows reach into it or not
    kps[0, :, 9:, 1] += 20 + rng.uniform(0., 4., (4, 8))  # below the image
    kps[1, :2] = rng.uniform(-1e12, -1e6, (2, 17, 2))  # far away: nothing is drawn, nothing overflows
    kps[1, 2:] = rng.uniform(1e6, 1e12, (2, 17, 2))
    check(results, **MODES[mode])


def test_window_bounds_truncate_toward_zero():
    # int(-2.3 + 1.8) = int(-0.5) = 0: the window [0, 1) still holds column 0 (floor would give an empty one)
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 0], score[0, 0, 0] = (-2.3, 5.), 1.
    kp[0, 0, 1], score[0, 0, 1] = (-2.9, 5.), 1.  # int(-1.1) + 1 = 0: empty window
    results = dict(keypoint=kp, keypoint_score=score, img_shape=(10, 10))
    heatmaps = check(results)
    expected = np.exp(-2.3**2 / (2 * 0.6**2))
    assert heatmaps[0, 0, 5, 0] == pytest.approx(expected, rel=1e-5)
    assert np.count_nonzero(heatmaps[0, 0]) == 4  # rows 4..7 of column 0 (window [int(3.2), int(6.8) + 1))
    assert not heatmaps[0, 1].any()


@pytest.mark.parametrize('mode', list(MODES))
def test_zero_and_sub_threshold_scores(mode):
    rng = np.random.RandomState(3)
    results = random_clip(rng, num_people=2, num_frames=3, scores=[0., 1e-4, 9.99e-4])
    heatmaps = check(results, **MODES[mode])
    assert not heatmaps.any()
    results['keypoint_score'][0, 1, :] = HEATMAP_EPS  # exactly the threshold: drawn
    heatmaps = check(results, **MODES[mode])
    assert heatmaps[1].any() and not heatmaps[[0, 2]].any()


@pytest.mark.parametrize('mode', list(MODES))
def test_use_score_false_draws_every_point_with_one(mode):
    rng = np.random.RandomState(4)
    results = random_clip(rng, num_people=2, num_frames=2, scores=[0., 1e-4, 0.5])
    heatmaps = check(results, use_score=False, **MODES[mode])
    ones = dict(results, keypoint_score=np.ones_like(results['keypoint_score']))
    np.testing.assert_array_equal(heatmaps, GeneratePoseTarget(**MODES[mode])(ones)['imgs'])
    assert heatmaps.max() > 0.5


@pytest.mark.parametrize('mode', list(MODES))
def test_overlapping_people_combine_by_maximum(mode):
    rng = np.random.RandomState(5)
    results = random_clip(rng, num_people=1, num_frames=2, margin=0., scores=[0.2, 0.6, 0.9])
    # four people within half a pixel of each other, with their own scores
    kps = results['keypoint'] + rng.uniform(-0.5, 0.5, (4, 2, 17, 2)).astype(np.float32)
    scores = rng.choice([0.3, 0.5, 0.8, 1.0], (4, 2, 17)).astype(np.float32)
    results = dict(results, keypoint=kps, keypoint_score=scores)
    together = check(results, **MODES[mode])
    alone = [GeneratePoseTarget(**MODES[mode])(dict(results, keypoint=kps[m:m + 1],
                                                    keypoint_score=scores[m:m + 1]))['imgs'] for m in range(4)]
    np.testing.assert_array_equal(together, np.max(alone, axis=0))
    assert all((together > a).any() for a in alone)  # every person wins somewhere


@pytest.mark.parametrize('mode', list(MODES))
@pytest.mark.parametrize('img_shape', [(1, 1), (9, 31), (40, 7)])
def test_one_frame_clips_and_non_square_images(mode, img_shape):
    rng = np.random.RandomState(sum(img_shape))
    results = random_clip(rng, num_people=3, num_frames=1, img_shape=img_shape, margin=2.)
    heatmaps = check(results, double=True, **MODES[mode])
    assert heatmaps.shape[0] == 2 and heatmaps.shape[2:] == img_shape


@pytest.mark.parametrize('length', [0., 0.5, 0.999, 1., 1.5])
def test_limbs_of_zero_and_short_length(length):
    rng = np.random.RandomState(6)
    results = random_clip(rng, num_people=2, num_frames=2, margin=0., scores=[0.4, 0.7, 1.])
    kps, scores = results['keypoint'], results['keypoint_score']
    for a, b in [(0, 1), (2, 4), (5, 7), (6, 8), (11, 13), (12, 14)]:  # limbs with no joint in common
        kps[:, :, a] = np.round(kps[:, :, a])  # integer starts: the lengths below are exact
        kps[:, :, b] = kps[:, :, a] + np.array([length, 0.], np.float32)
    scores[:, :, 5], scores[:, :, 7] = 0.9, 0.5
    heatmaps = check(results, with_kp=True, with_limb=True)
    limb = 17 + COCO_SKELETONS.index((5, 7))
    if length < 1:  # the point at the start, with the start's value (not the smaller end value)
        np.testing.assert_array_equal(heatmaps[:, limb], heatmaps[:, 5])
    else:
        assert heatmaps[:, limb].max() <= 0.5 + 1e-6 and heatmaps[:, limb].max() > 0.4


def test_short_limb_takes_the_start_value():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 5], kp[0, 0, 7] = (6., 6.), (6.4, 6.3)  # limb (5, 7) is channel 5, 0.5 pixel long
    score[0, 0, 5], score[0, 0, 7] = 0.3, 0.9
    heatmaps = check(dict(keypoint=kp, keypoint_score=score, img_shape=(12, 12)), with_kp=False, with_limb=True)
    assert heatmaps[0, 5, 6, 6] == pytest.approx(0.3)
    score[0, 0, 5], score[0, 0, 7] = 0.9, 5e-4  # min(value) below the threshold: not drawn at all
    heatmaps = check(dict(keypoint=kp, keypoint_score=score, img_shape=(12, 12)), with_kp=False, with_limb=True)
    assert not heatmaps.any()


def test_scaling_and_three_coordinates():
    rng = np.random.RandomState(7)
    results = random_clip(rng, num_people=2, num_frames=2, img_shape=(16, 20))
    results['keypoint'] = np.concatenate([results['keypoint'], np.ones((2, 2, 17, 1), np.float32)], axis=-1)
    heatmaps = check(results, scaling=1.7, with_limb=True, double=True)
    assert heatmaps.shape == (4, 17 + len(COCO_SKELETONS), 27, 34)


def test_mirror_is_drawn_like_the_flipped_copy():
    rng = np.random.RandomState(8)
    results = random_clip(rng, num_people=2, num_frames=3, margin=1.)
    target = GeneratePoseTarget(with_limb=True)
    order = target.mirror_order(17)
    kps, values = target.inputs(results)
    single = draw_heatmaps(kps, values, 24, 32, 0.6, True, True)
    double = draw_heatmaps(kps, values, 24, 32, 0.6, True, True, mirror_order=order)
    np.testing.assert_array_equal(double[:3], single)
    np.testing.assert_array_equal(double[3:], single[:, order, :, ::-1])
    with pytest.raises(ValueError, match='permutation'):
        draw_heatmaps(kps, values, 24, 32, 0.6, True, True, mirror_order=order[:-1])


def test_non_finite_keypoints_are_rejected():
    results = random_clip(np.random.RandomState(9))
    results['keypoint'][0, 1, 3, 0] = np.nan
    with pytest.raises(ValueError, match='non-finite'):
        GeneratePoseTarget()(results)
