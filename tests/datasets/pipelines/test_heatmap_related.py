import numpy as np
import pytest
from heatmap_reference import draw_limb, draw_point

from pyskl.datasets.pipelines import Compose, GeneratePoseTarget
from pyskl.heatmaps import COCO_SKELETONS

SIGMA = 0.6


def reference_point(height, width, x, y, value, sigma=SIGMA):
    """Direct per-pixel formula over the whole image."""
    out = np.zeros((height, width))
    if value < 1e-3:
        return out
    for i in range(height):
        for j in range(width):
            inside_x = max(int(x - 3 * sigma), 0) <= j < min(int(x + 3 * sigma) + 1, width)
            inside_y = max(int(y - 3 * sigma), 0) <= i < min(int(y + 3 * sigma) + 1, height)
            if inside_x and inside_y:
                out[i, j] = value * np.exp(-((j - x)**2 + (i - y)**2) / (2 * sigma**2))
    return out


def reference_limb(height, width, a, b, va, vb, sigma=SIGMA):
    """Distance of each pixel to the segment, computed geometrically."""
    out = np.zeros((height, width))
    value = min(va, vb)
    if value < 1e-3:
        return out
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.sum((a - b)**2) < 1:
        return reference_point(height, width, a[0], a[1], va, sigma)
    x0 = max(int(min(a[0], b[0]) - 3 * sigma), 0)
    x1 = min(int(max(a[0], b[0]) + 3 * sigma) + 1, width)
    y0 = max(int(min(a[1], b[1]) - 3 * sigma), 0)
    y1 = min(int(max(a[1], b[1]) + 3 * sigma) + 1, height)
    direction = b - a
    for i in range(y0, y1):
        for j in range(x0, x1):
            p = np.array([j, i], float)
            t = np.clip(np.dot(p - a, direction) / np.dot(direction, direction), 0, 1)
            d2 = np.sum((p - (a + t * direction))**2)
            out[i, j] = value * np.exp(-d2 / (2 * sigma**2))
    return out


def pose_results(kp, score=None, img_shape=(32, 32)):
    kp = np.asarray(kp, np.float32)
    results = dict(keypoint=kp, img_shape=img_shape)
    if score is not None:
        results['keypoint_score'] = np.asarray(score, np.float32)
    return results


def test_peak_at_integer_keypoint_equals_score():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 5] = (10, 20)
    score[0, 0, 5] = 0.7
    heat = GeneratePoseTarget()(pose_results(kp, score))['imgs']
    assert heat.shape == (1, 17, 32, 32) and heat.dtype == np.float32
    assert np.unravel_index(heat[0, 5].argmax(), (32, 32)) == (20, 10)
    assert heat[0, 5, 20, 10] == pytest.approx(0.7, abs=1e-6)
    assert heat[0, 5, 20, 11] == pytest.approx(0.7 * np.exp(-1 / (2 * SIGMA**2)), abs=1e-6)
    # the window is [int(mu - 1.8), int(mu + 1.8) + 1) = [8, 12) in x
    assert heat[0, 5, 20, 11] > 0 and heat[0, 5, 20, 12] == 0 and heat[0, 5, 20, 8] > 0 and heat[0, 5, 20, 7] == 0
    # only joint 5 is drawn (the others score 0)
    assert np.count_nonzero(heat[0, np.arange(17) != 5]) == 0


@pytest.mark.parametrize('x,y,value', [(5.3, 7.8, 0.9), (0.2, 0.4, 1.0), (31.7, 15.5, 0.5), (-1.0, 3.0, 1.0),
                                       (40.0, 10.0, 1.0), (3.0, 3.0, 5e-4)])
def test_draw_point_matches_reference(x, y, value):
    arr = np.zeros((24, 32), np.float32)
    draw_point(arr, x, y, value, SIGMA)
    np.testing.assert_allclose(arr, reference_point(24, 32, x, y, value), atol=1e-6)


@pytest.mark.parametrize('a,b', [((3.2, 4.1), (20.7, 15.3)), ((20.0, 5.0), (4.5, 5.0)), ((10.0, 2.0), (10.0, 20.0)),
                                 ((8.0, 8.0), (8.4, 8.5)), ((-5.0, 3.0), (12.0, 30.0))])
def test_draw_limb_matches_reference(a, b):
    arr = np.zeros((24, 32), np.float32)
    draw_limb(arr, a, b, 0.8, 0.6, SIGMA)
    np.testing.assert_allclose(arr, reference_limb(24, 32, a, b, 0.8, 0.6), atol=1e-5)


def test_limb_heatmap_value_along_segment():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 5] = (4, 10)   # left shoulder
    kp[0, 0, 7] = (20, 10)  # left elbow: limb (5, 7) is channel 5
    score[0, 0, [5, 7]] = (0.9, 0.6)
    heat = GeneratePoseTarget(with_kp=False, with_limb=True)(pose_results(kp, score))['imgs']
    assert heat.shape == (1, len(COCO_SKELETONS), 32, 32)
    np.testing.assert_allclose(heat[0, 5, 10, 4:21], 0.6, atol=1e-6)
    assert heat[0, 5, 11, 12] == pytest.approx(0.6 * np.exp(-1 / (2 * SIGMA**2)), abs=1e-6)
    # beyond the end points the distance is to the nearer end
    assert heat[0, 5, 10, 21] == pytest.approx(0.6 * np.exp(-1 / (2 * SIGMA**2)), abs=1e-6)
    assert heat[0, 5, 10, 3] == pytest.approx(0.6 * np.exp(-1 / (2 * SIGMA**2)), abs=1e-6)
    assert np.count_nonzero(heat[0, np.arange(len(COCO_SKELETONS)) != 5]) == 0


def test_short_limb_is_a_point_at_its_start_with_its_score():
    arr = np.zeros((16, 16), np.float32)
    draw_limb(arr, (5, 6), (5.5, 6.5), 0.4, 0.9, SIGMA)
    assert arr[6, 5] == pytest.approx(0.4, abs=1e-6)
    assert np.unravel_index(arr.argmax(), arr.shape) == (6, 5)


def test_people_combine_by_maximum_and_low_scores_are_skipped():
    kp = np.zeros((3, 1, 17, 2), np.float32)
    score = np.zeros((3, 1, 17), np.float32)
    kp[0, 0, 0], score[0, 0, 0] = (10, 10), 0.5
    kp[1, 0, 0], score[1, 0, 0] = (11, 10), 0.9
    kp[2, 0, 0], score[2, 0, 0] = (20, 20), 5e-4
    heat = GeneratePoseTarget()(pose_results(kp, score))['imgs'][0, 0]
    expected = np.maximum(reference_point(32, 32, 10, 10, 0.5), reference_point(32, 32, 11, 10, 0.9))
    np.testing.assert_allclose(heat, expected, atol=1e-6)
    assert heat[20, 20] == 0


def test_use_score_false_draws_ones():
    kp = np.full((1, 2, 17, 2), 8, np.float32)
    score = np.full((1, 2, 17), 0.3, np.float32)
    heat = GeneratePoseTarget(use_score=False)(pose_results(kp, score))['imgs']
    np.testing.assert_allclose(heat[:, :, 8, 8], 1.0)
    heat = GeneratePoseTarget()(pose_results(kp))['imgs']  # no keypoint_score: value 1
    np.testing.assert_allclose(heat[:, :, 8, 8], 1.0)


def test_non_square_image_orientation():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 0], score[0, 0, 0] = (40, 5), 1.0  # x = 40 only exists in the wide image
    heat = GeneratePoseTarget()(pose_results(kp, score, img_shape=(12, 48)))['imgs']
    assert heat.shape == (1, 17, 12, 48)
    assert np.unravel_index(heat[0, 0].argmax(), (12, 48)) == (5, 40)


def test_keypoints_outside_the_image_do_not_crash():
    kp = np.array([[[[-50, -50], [100, 5], [5, 100], [33, 33], [31.5, 2]] + [[0, 0]] * 12]], np.float32)
    score = np.ones((1, 1, 17), np.float32)
    heat = GeneratePoseTarget(with_kp=True, with_limb=True)(pose_results(kp, score))['imgs']
    assert heat.shape == (1, 17 + len(COCO_SKELETONS), 32, 32)
    assert heat[0, :3].max() == 0
    assert heat[0, 3].max() > 0  # 1 pixel outside: the window still reaches the image
    assert heat[0, 4].max() > 0.1
    assert np.isfinite(heat).all()


def test_scaling():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    score = np.zeros((1, 1, 17), np.float32)
    kp[0, 0, 0], score[0, 0, 0] = (5, 7), 1.0
    heat = GeneratePoseTarget(scaling=2.)(pose_results(kp, score, img_shape=(16, 20)))['imgs']
    assert heat.shape == (1, 17, 32, 40)
    assert heat[0, 0, 14, 10] == pytest.approx(1.0)


@pytest.mark.parametrize('with_kp,with_limb', [(True, False), (False, True)])
def test_double_appends_mirrored_copy(with_kp, with_limb):
    rng = np.random.RandomState(0)
    kp = rng.uniform(0, 24, (2, 6, 17, 2)).astype(np.float32)
    score = rng.uniform(0, 1, (2, 6, 17)).astype(np.float32)
    single = GeneratePoseTarget(with_kp=with_kp, with_limb=with_limb)(pose_results(kp, score, (24, 24)))['imgs']
    double = GeneratePoseTarget(with_kp=with_kp, with_limb=with_limb, double=True)(
        pose_results(kp, score, (24, 24)))['imgs']
    assert double.shape == (12, ) + single.shape[1:]
    np.testing.assert_array_equal(double[:6], single)
    if with_kp:
        left, right = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
    else:
        left, right = [0, 2, 4, 5, 6, 10, 11, 12], [1, 3, 7, 8, 9, 13, 14, 15]
    order = np.arange(single.shape[1])
    order[left], order[right] = right, left
    np.testing.assert_array_equal(double[6:], single[:, order, :, ::-1])
    assert not np.array_equal(double[6:], single[..., ::-1])


def test_double_through_format_shape():
    kp = np.random.RandomState(1).uniform(0, 32, (1, 12, 17, 2)).astype(np.float32)
    results = dict(keypoint=kp, keypoint_score=np.ones((1, 12, 17), np.float32), img_shape=(32, 32),
                   num_clips=3, clip_len=4)
    pipeline = Compose([dict(type='GeneratePoseTarget', double=True),
                        dict(type='FormatShape', input_format='NCTHW_Heatmap')])
    imgs = pipeline(results)['imgs']
    assert imgs.shape == (6, 17, 4, 32, 32)
    single = GeneratePoseTarget()(dict(results, imgs=None))  # frames present: heatmaps go to heatmap_imgs
    assert 'heatmap_imgs' in single
    np.testing.assert_array_equal(imgs[1, :, 2], single['heatmap_imgs'][6])


def test_layout_errors():
    with pytest.raises(ValueError, match='with_kp'):
        GeneratePoseTarget(with_kp=False, with_limb=False)
    kp = np.zeros((1, 1, 5, 2), np.float32)
    with pytest.raises(ValueError, match='skeletons'):
        GeneratePoseTarget(with_kp=False, with_limb=True)(pose_results(kp))
    with pytest.raises(ValueError, match='left_kp'):
        GeneratePoseTarget(double=True)(pose_results(kp))
    with pytest.raises(ValueError, match='keypoint shape'):
        GeneratePoseTarget()(pose_results(np.zeros((1, 5, 2), np.float32)))


def test_old_import_paths_name_the_shared_engine():
    import pyskl.heatmaps as engine
    from pyskl.datasets.pipelines import heatmap_related

    for name in ('COCO_SKELETONS', 'COCO_LEFT_KP', 'COCO_RIGHT_KP', 'COCO_LEFT_LIMB', 'COCO_RIGHT_LIMB',
                 'HEATMAP_EPS', 'draw_heatmaps'):
        assert getattr(heatmap_related, name) is getattr(engine, name), name
    assert issubclass(GeneratePoseTarget, engine.HeatmapSpec)
    # the per-point reference lives with the tests, not in the package
    assert not hasattr(heatmap_related, 'draw_point') and not hasattr(engine, 'draw_point')
