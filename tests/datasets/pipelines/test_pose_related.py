import pickle

import numpy as np
import pytest

from pyskl.datasets import PIPELINES
from pyskl.datasets.pipelines import (
    CenterCrop,
    Compose,
    Flip,
    PoseCompact,
    PoseDecode,
    RandomCrop,
    RandomResizedCrop,
    Resize,
)


def make_pose(num_people=2, num_frames=6, num_joints=17, img_shape=(100, 200), seed=0):
    rng = np.random.RandomState(seed)
    h, w = img_shape
    kp = np.stack([rng.uniform(20, w - 20, (num_people, num_frames, num_joints)),
                   rng.uniform(20, h - 20, (num_people, num_frames, num_joints))], axis=-1).astype(np.float32)
    score = rng.uniform(0.2, 1, (num_people, num_frames, num_joints)).astype(np.float32)
    kp[0, 1, 3] = 0  # a missing joint
    score[0, 1, 3] = 0
    return dict(keypoint=kp, keypoint_score=score, img_shape=img_shape, total_frames=num_frames, frame_dir='s0',
                label=3)


# ---------------------------------------------------------------- PoseDecode


def test_pose_decode_selects_frames():
    results = make_pose()
    kp, score = results['keypoint'].copy(), results['keypoint_score'].copy()
    results['frame_inds'] = np.array([4, 0, 0, 5])
    out = PoseDecode()(results)
    np.testing.assert_array_equal(out['keypoint'], kp[:, [4, 0, 0, 5]])
    np.testing.assert_array_equal(out['keypoint_score'], score[:, [4, 0, 0, 5]])
    assert out['keypoint'].dtype == np.float32


def test_pose_decode_defaults_to_all_frames_and_works_without_scores():
    results = make_pose()
    kp = results['keypoint'].copy()
    del results['keypoint_score']
    out = PoseDecode()(results)
    np.testing.assert_array_equal(out['frame_inds'], np.arange(6))
    np.testing.assert_array_equal(out['keypoint'], kp)
    assert 'keypoint_score' not in out


def test_pose_decode_out_of_range_names_the_sample():
    results = make_pose()
    results['frame_inds'] = np.array([0, 9])
    with pytest.raises(IndexError, match="'s0'"):
        PoseDecode()(results)


# ---------------------------------------------------------------- PoseCompact


def test_pose_compact_arithmetic():
    kp = np.zeros((1, 2, 3, 2), np.float32)
    kp[0, 0, 0] = (100, 50)
    kp[0, 1, 1] = (140, 130)  # box x 100..140, y 50..130
    results = dict(keypoint=kp, img_shape=(200, 300))
    out = PoseCompact(padding=0.25, threshold=10)(results)
    # centre (120, 90), half sizes 20 * 1.25 = 25 and 40 * 1.25 = 50
    assert out['img_shape'] == (100, 50)
    np.testing.assert_allclose(out['crop_quadruple'], (95 / 300, 40 / 200, 50 / 300, 100 / 200))
    np.testing.assert_array_equal(out['keypoint'][0, 0, 0], (5, 10))
    np.testing.assert_array_equal(out['keypoint'][0, 1, 1], (45, 90))
    # missing joints stay zero
    assert np.all(out['keypoint'][0, 0, 1:] == 0)
    # the input is not modified
    assert kp[0, 0, 0, 0] == 100


def test_pose_compact_hw_ratio_and_imgpad():
    kp = np.zeros((1, 1, 2, 2), np.float32)
    kp[0, 0, 0] = (10, 40)
    kp[0, 0, 1] = (90, 60)  # 80 wide, 20 high
    out = PoseCompact(padding=0., hw_ratio=1., allow_imgpad=True)(dict(keypoint=kp.copy(), img_shape=(100, 100)))
    assert out['img_shape'] == (80, 80)
    out = PoseCompact(padding=0.5, hw_ratio=1., allow_imgpad=True)(dict(keypoint=kp.copy(), img_shape=(100, 100)))
    assert out['img_shape'] == (120, 120)
    assert out['crop_quadruple'][0] < 0  # the box extends to the left of the image
    out = PoseCompact(padding=0.5, hw_ratio=1., allow_imgpad=False)(dict(keypoint=kp.copy(), img_shape=(100, 100)))
    assert out['img_shape'] == (100, 100)
    np.testing.assert_allclose(out['crop_quadruple'], (0, 0, 1, 1))


def test_pose_compact_small_box_is_left_alone():
    kp = np.zeros((1, 1, 2, 2), np.float32)
    kp[0, 0, 0] = (10, 10)
    kp[0, 0, 1] = (15, 40)
    out = PoseCompact(threshold=10)(dict(keypoint=kp, img_shape=(100, 100)))
    assert out['img_shape'] == (100, 100)
    assert 'crop_quadruple' not in out
    np.testing.assert_array_equal(out['keypoint'], kp)


def test_pose_compact_combines_with_a_previous_crop():
    kp = np.zeros((1, 1, 2, 2), np.float32)
    kp[0, 0, 0] = (20, 20)
    kp[0, 0, 1] = (60, 60)
    out = PoseCompact(padding=0.)(dict(keypoint=kp, img_shape=(100, 100), crop_quadruple=(0.5, 0.5, 0.5, 0.5)))
    np.testing.assert_allclose(out['crop_quadruple'], (0.6, 0.6, 0.2, 0.2))


# ---------------------------------------------------------------- Resize


def test_resize_short_side():
    results = make_pose(img_shape=(100, 200))
    kp = results['keypoint'].copy()
    out = Resize(scale=(-1, 64))(results)
    assert out['img_shape'] == (64, 128)
    np.testing.assert_allclose(out['keypoint'], kp * 0.64, rtol=1e-6)
    assert out['keypoint'][0, 1, 3].tolist() == [0, 0]
    np.testing.assert_allclose(out['scale_factor'], (0.64, 0.64))


def test_resize_exact_and_factor_and_accumulation():
    results = make_pose(img_shape=(100, 200))
    kp = results['keypoint'].copy()
    out = Resize(scale=(32, 50), keep_ratio=False)(results)
    assert out['img_shape'] == (50, 32)
    np.testing.assert_allclose(out['keypoint'][..., 0], kp[..., 0] * 0.16, rtol=1e-6)
    np.testing.assert_allclose(out['keypoint'][..., 1], kp[..., 1] * 0.5, rtol=1e-6)
    out = Resize(scale=2.0)(out)
    assert out['img_shape'] == (100, 64)
    np.testing.assert_allclose(out['scale_factor'], (0.32, 1.0), rtol=1e-6)


def test_resize_keep_ratio_fits_both_limits():
    out = Resize(scale=(340, 256))(dict(img_shape=(480, 640)))
    # min(340 / 640, 256 / 480) = 0.53125
    assert out['img_shape'] == (255, 340)


@pytest.mark.parametrize('scale', [(0, 64), 'big', -1.0, 3])
def test_resize_bad_scale(scale):
    with pytest.raises((ValueError, TypeError)):
        Resize(scale=scale)


# ---------------------------------------------------------------- crops


def test_random_resized_crop_keeps_shapes_consistent():
    np.random.seed(0)
    for trial in range(30):
        results = make_pose(img_shape=(90, 160), seed=trial)
        kp = results['keypoint'].copy()
        out = RandomResizedCrop(area_range=(0.3, 1.0))(results)
        left, top, right, bottom = out['crop_bbox']
        assert 0 <= left < right <= 160 and 0 <= top < bottom <= 90
        assert out['img_shape'] == (bottom - top, right - left)
        area = (bottom - top) * (right - left) / (90 * 160)
        assert 0.25 <= area <= 1.0 + 1e-9
        x, y, w, h = out['crop_quadruple']
        np.testing.assert_allclose((x * 160, y * 90, w * 160, h * 90), (left, top, right - left, bottom - top))
        valid = kp[..., 0] != 0
        np.testing.assert_allclose(out['keypoint'][valid], kp[valid] - np.array([left, top], np.float32))
        assert np.all(out['keypoint'][~valid] == 0)


def test_random_resized_crop_reproducible():
    np.random.seed(5)
    first = RandomResizedCrop()(dict(img_shape=(64, 64)))['crop_bbox']
    np.random.seed(5)
    second = RandomResizedCrop()(dict(img_shape=(64, 64)))['crop_bbox']
    np.testing.assert_array_equal(first, second)


def test_random_resized_crop_falls_back_to_centre_square():
    bbox = RandomResizedCrop.get_crop_bbox((10, 100), (0.9, 1.0), (1.0, 1.0))
    assert bbox == (45, 0, 55, 10)


def test_center_crop():
    results = make_pose(img_shape=(64, 80))
    kp = results['keypoint'].copy()
    out = CenterCrop(crop_size=64)(results)
    assert out['img_shape'] == (64, 64)
    np.testing.assert_array_equal(out['crop_bbox'], (8, 0, 72, 64))
    np.testing.assert_allclose(out['keypoint'][1, 0, 0], kp[1, 0, 0] - (8, 0))
    np.testing.assert_allclose(out['crop_quadruple'], (0.1, 0, 0.8, 1))


def test_random_crop_stays_inside():
    np.random.seed(1)
    for _ in range(20):
        out = RandomCrop(size=32)(dict(img_shape=(40, 50)))
        left, top, right, bottom = out['crop_bbox']
        assert 0 <= left <= 18 and 0 <= top <= 8
        assert (right - left, bottom - top) == (32, 32)
        assert out['img_shape'] == (32, 32)


# ---------------------------------------------------------------- Flip

LEFT = [1, 3, 5, 7, 9, 11, 13, 15]
RIGHT = [2, 4, 6, 8, 10, 12, 14, 16]


def test_flip_mirrors_x_swaps_sides_and_keeps_zeros():
    results = make_pose(img_shape=(100, 200))
    kp, score = results['keypoint'].copy(), results['keypoint_score'].copy()
    out = Flip(flip_ratio=1., left_kp=LEFT, right_kp=RIGHT)(results)
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    order = np.arange(17)
    order[LEFT], order[RIGHT] = RIGHT, LEFT
    expected = kp[:, :, order].copy()
    expected[..., 0] = np.where(expected[..., 0] != 0, 200 - expected[..., 0], 0)
    np.testing.assert_allclose(out['keypoint'], expected)
    np.testing.assert_array_equal(out['keypoint_score'], score[:, :, order])
    # the missing joint 3 of person 0, frame 1 is now joint 4, still at (0, 0)
    assert out['keypoint'][0, 1, 4].tolist() == [0, 0]
    assert out['keypoint'][0, 1, 3, 0] != 0
    np.testing.assert_array_equal(out['keypoint'][..., 1], kp[:, :, order, 1])


def test_flip_twice_is_identity_and_ratio_zero_does_nothing():
    results = make_pose()
    kp = results['keypoint'].copy()
    flip = Flip(flip_ratio=1., left_kp=LEFT, right_kp=RIGHT)
    np.testing.assert_allclose(flip(flip(results))['keypoint'], kp, atol=1e-4)
    out = Flip(flip_ratio=0.)(make_pose())
    assert not out['flip']
    np.testing.assert_array_equal(out['keypoint'], kp)


def test_flip_label_map_and_vertical():
    out = Flip(flip_ratio=1., flip_label_map={3: 4})(make_pose())
    assert out['label'] == 4
    results = make_pose(img_shape=(100, 200))
    kp = results['keypoint'].copy()
    out = Flip(flip_ratio=1., direction='vertical', left_kp=LEFT, right_kp=RIGHT)(results)
    np.testing.assert_allclose(out['keypoint'][..., 0], kp[..., 0])
    np.testing.assert_allclose(out['keypoint'][..., 1], np.where(kp[..., 1] != 0, 100 - kp[..., 1], 0))


def test_flip_bad_joint_lists():
    with pytest.raises(ValueError):
        Flip(left_kp=[1, 3], right_kp=[2])
    with pytest.raises(ValueError, match='joint 16'):
        Flip(flip_ratio=1., left_kp=LEFT, right_kp=RIGHT)(make_pose(num_joints=5))


# ---------------------------------------------------------------- Compose


def test_compose_unknown_type_lists_known_types():
    with pytest.raises(KeyError) as info:
        Compose([dict(type='PoseDecode'), dict(type='NoSuchStep')])
    message = str(info.value)
    assert 'NoSuchStep' in message and 'UniformSampleFrames' in message and 'GeneratePoseTarget' in message


def test_compose_mixes_configs_and_callables_and_stops_on_none():
    calls = []

    def record(results):
        calls.append(len(results['frame_inds']))
        return results

    pipeline = Compose([dict(type='UniformSampleFrames', clip_len=4), record, dict(type='PoseDecode')])
    out = pipeline(make_pose())
    assert calls == [4] and out['keypoint'].shape == (2, 4, 17, 2)
    stopped = Compose([lambda results: None, record])
    assert stopped(make_pose()) is None
    assert calls == [4]
    with pytest.raises(TypeError):
        Compose([3])


def test_every_step_is_registered():
    for name in ('Compose', 'UniformSampleFrames', 'PoseDecode', 'PoseCompact', 'Resize', 'RandomResizedCrop',
                 'CenterCrop', 'RandomCrop', 'Flip', 'GeneratePoseTarget', 'FormatShape', 'Collect', 'ToTensor'):
        assert PIPELINES.get(name) is not None, name


# ---------------------------------------------------------------- real pose-estimator output


def test_training_pipeline_on_real_clips(shared_dir):
    path = shared_dir / 'data' / 'wlasl_subset_234_coco17_2d.pkl'
    if not path.is_file():
        pytest.skip('../shared/data/wlasl_subset_234_coco17_2d.pkl is not available')
    with open(path, 'rb') as f:
        annotations = pickle.load(f)['annotations']
    pipeline = Compose([
        dict(type='UniformSampleFrames', clip_len=12),
        dict(type='PoseDecode'),
        dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
        dict(type='Resize', scale=(-1, 64)),
        dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
        dict(type='Resize', scale=(48, 48), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5, left_kp=LEFT, right_kp=RIGHT),
        dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
        dict(type='FormatShape', input_format='NCTHW_Heatmap'),
        dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['imgs', 'label']),
    ])
    np.random.seed(0)
    for ann in annotations[:6]:
        results = dict(ann, start_index=0, modality='Pose')
        out = pipeline(results)
        assert tuple(out['imgs'].shape) == (1, 17, 12, 48, 48)
        assert float(out['imgs'].max()) <= 1.0 + 1e-6 and float(out['imgs'].min()) >= 0
        assert out['label'].ndim == 0
