import importlib.util
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets import synthetic
from pyskl.datasets.synthetic import (
    COCO17_KEYPOINTS,
    SYNTHETIC_CLASSES,
    BodyShape,
    class_list_csv,
    forward_kinematics,
    generate_synthetic_dataset,
    write_synthetic_dataset,
)
from pyskl.utils.class_lists import load_class_list

REPO_ROOT = Path(__file__).resolve().parents[2]
NUM_CLASSES = len(SYNTHETIC_CLASSES)
IMG_H, IMG_W = 480, 640
L_WRIST, R_WRIST, L_ANKLE, R_ANKLE = 9, 10, 15, 16


@pytest.fixture(scope='module')
def dataset():
    return generate_synthetic_dataset(num_train_per_class=6, num_val_per_class=3, seed=0)


@pytest.fixture(scope='module')
def single_person():
    """Clips without a bystander, so that person 0 is the actor."""
    return generate_synthetic_dataset(num_train_per_class=12, num_val_per_class=0, seed=1, second_person_prob=0.0)


def load_script():
    spec = importlib.util.spec_from_file_location('generate_synthetic', REPO_ROOT / 'tools' / 'data' /
                                                  'generate_synthetic.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def person_height(kp, score):
    """Median over frames of the vertical extent of the present joints ``[T, V, 2]``."""
    y = np.where(score > 0, kp[..., 1], np.nan)
    return float(np.nanmedian(np.nanmax(y, axis=1) - np.nanmin(y, axis=1)))


def motion(ann, joint):
    """Temporal spread of one joint of person 0, in units of the person's height."""
    kp, score = ann['keypoint'][0], ann['keypoint_score'][0]
    points = kp[score[:, joint] > 0, joint]
    return float(np.linalg.norm(points.std(axis=0)) / person_height(kp, score))


def per_class(data, func):
    values = {label: [] for label in range(NUM_CLASSES)}
    for ann in data['annotations']:
        values[ann['label']].append(func(ann))
    return {label: float(np.mean(v)) for label, v in values.items()}


def test_same_seed_same_output():
    first = generate_synthetic_dataset(num_train_per_class=2, num_val_per_class=1, seed=7)
    second = generate_synthetic_dataset(num_train_per_class=2, num_val_per_class=1, seed=7)
    assert first['split'] == second['split']
    for a, b in zip(first['annotations'], second['annotations'], strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_different_seed_different_output():
    first = generate_synthetic_dataset(num_train_per_class=1, num_val_per_class=1, seed=0)
    second = generate_synthetic_dataset(num_train_per_class=1, num_val_per_class=1, seed=1)
    assert first['split'] == second['split']
    differs = [a['keypoint'].shape != b['keypoint'].shape or not np.array_equal(a['keypoint'], b['keypoint'])
               for a, b in zip(first['annotations'], second['annotations'])]
    assert all(differs)


def test_a_sample_does_not_depend_on_the_other_split_size():
    small = generate_synthetic_dataset(num_train_per_class=2, num_val_per_class=1, seed=3)
    large = generate_synthetic_dataset(num_train_per_class=2, num_val_per_class=4, seed=3)
    train = set(small['split']['train'])
    assert train == set(large['split']['train'])
    large_by_name = {a['frame_dir']: a for a in large['annotations']}
    for ann in small['annotations']:
        np.testing.assert_array_equal(ann['keypoint'], large_by_name[ann['frame_dir']]['keypoint'])


def test_annotation_format(dataset):
    annotations = dataset['annotations']
    assert set(dataset['split']) == {'train', 'val'}
    assert len(annotations) == 9 * NUM_CLASSES
    for ann in annotations:
        assert set(ann) == {'frame_dir', 'label', 'total_frames', 'img_shape', 'original_shape', 'keypoint',
                            'keypoint_score'}
        assert isinstance(ann['frame_dir'], str)
        assert type(ann['label']) is int and 0 <= ann['label'] < NUM_CLASSES
        assert type(ann['total_frames']) is int and 30 <= ann['total_frames'] <= 80
        assert ann['img_shape'] == (IMG_H, IMG_W) and ann['original_shape'] == (IMG_H, IMG_W)
        kp, score = ann['keypoint'], ann['keypoint_score']
        assert kp.dtype == np.float32 and score.dtype == np.float32
        num_people = kp.shape[0]
        assert num_people in (1, 2)
        assert kp.shape == (num_people, ann['total_frames'], len(COCO17_KEYPOINTS), 2)
        assert score.shape == kp.shape[:3]
        assert np.isfinite(kp).all() and np.isfinite(score).all()
        # a joint is either missing ((0, 0) with score 0) or present with a score in [0.3, 1]
        missing = score == 0
        assert ((score >= 0.3) & (score <= 1.0) | missing).all()
        assert (kp[missing] == 0).all()
        assert (kp[~missing] != 0).any(axis=-1).all()


def test_splits_cover_every_annotation_once(dataset):
    names = [a['frame_dir'] for a in dataset['annotations']]
    assert len(set(names)) == len(names)
    train, val = dataset['split']['train'], dataset['split']['val']
    assert not set(train) & set(val)
    assert sorted(train + val) == sorted(names)


def test_every_class_in_both_splits(dataset):
    label_of = {a['frame_dir']: a['label'] for a in dataset['annotations']}
    for name, per_class_count in (('train', 6), ('val', 3)):
        counts = np.bincount([label_of[n] for n in dataset['split'][name]], minlength=NUM_CLASSES)
        assert counts.tolist() == [per_class_count] * NUM_CLASSES


def test_coordinates_mostly_inside_the_image(dataset):
    points = np.concatenate([a['keypoint'][a['keypoint_score'] > 0] for a in dataset['annotations']])
    inside = (points[:, 0] >= 0) & (points[:, 0] < IMG_W) & (points[:, 1] >= 0) & (points[:, 1] < IMG_H)
    assert inside.mean() > 0.98


def test_variation(dataset):
    annotations = dataset['annotations']
    lengths = {a['total_frames'] for a in annotations}
    assert len(lengths) > 20
    two_people = [a for a in annotations if a['keypoint'].shape[0] == 2]
    assert 0.05 < len(two_people) / len(annotations) < 0.4
    with_missing = [a for a in annotations if (a['keypoint_score'] == 0).any()]
    assert 0.1 < len(with_missing) / len(annotations) < 0.8
    heights = np.array([np.ptp(a['keypoint'][0, 0, a['keypoint_score'][0, 0] > 0, 1]) for a in annotations])
    assert heights.max() > 1.6 * heights.min()
    centres = np.array([a['keypoint'][0, :, 11:13, 0].mean() for a in annotations])
    assert np.ptp(centres) > IMG_W / 3


@pytest.mark.parametrize('right_class,left_class,right_joint,left_joint', [
    ('waving the right hand', 'waving the left hand', R_WRIST, L_WRIST),
    ('raising the right arm', 'raising the left arm', R_WRIST, L_WRIST),
    ('kicking with the right leg', 'kicking with the left leg', R_ANKLE, L_ANKLE),
])
def test_left_and_right_classes_move_their_own_limb(single_person, right_class, left_class, right_joint,
                                                    left_joint):
    for name, moving, still in ((right_class, right_joint, left_joint), (left_class, left_joint, right_joint)):
        label = SYNTHETIC_CLASSES.index(name)
        clips = [a for a in single_person['annotations'] if a['label'] == label]
        moving_motion = np.mean([motion(a, moving) for a in clips])
        still_motion = np.mean([motion(a, still) for a in clips])
        assert moving_motion > 2 * still_motion, (name, moving_motion, still_motion)


def test_the_punching_fist_crosses_the_midline(single_person):
    def crossing(ann, wrist, towards_other_side):
        """How far past the midline of the shoulders the wrist gets, in shoulder widths."""
        kp, score = ann['keypoint'][0], ann['keypoint_score'][0]
        ok = (score[:, 5] > 0) & (score[:, 6] > 0) & (score[:, wrist] > 0)
        midline = kp[ok, 5:7, 0].mean(axis=1)
        width = np.abs(kp[ok, 5, 0] - kp[ok, 6, 0])
        return float(np.max(towards_other_side * (kp[ok, wrist, 0] - midline) / width))

    for name, punching, guarding in (('punching forward with the right hand', R_WRIST, L_WRIST),
                                     ('punching forward with the left hand', L_WRIST, R_WRIST)):
        clips = [a for a in single_person['annotations'] if a['label'] == SYNTHETIC_CLASSES.index(name)]
        # the right wrist crosses towards +x (the person's left side), the left wrist towards -x
        sign = {R_WRIST: 1.0, L_WRIST: -1.0}
        assert np.mean([crossing(a, punching, sign[punching]) for a in clips]) > 0.1, name
        assert np.mean([crossing(a, guarding, sign[guarding]) for a in clips]) < 0.0, name


def test_the_left_limb_appears_on_the_right_of_the_image(single_person):
    # COCO convention for a person facing the camera
    for ann in single_person['annotations']:
        if ann['label'] == SYNTHETIC_CLASSES.index('standing still'):
            kp, score = ann['keypoint'][0], ann['keypoint_score'][0]
            both = (score[:, 5] > 0) & (score[:, 6] > 0)
            assert (kp[both, 5, 0] > kp[both, 6, 0]).mean() > 0.9


def test_classes_have_distinct_motion(single_person):
    profiles = {}
    for ann in single_person['annotations']:
        profile = np.array([motion(ann, joint) for joint in range(5, 17)])
        profiles.setdefault(ann['label'], []).append(profile)
    means = np.stack([np.mean(profiles[label], axis=0) for label in range(NUM_CLASSES)])
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert distances.min() > 0.01
    total = means.sum(axis=1)
    assert total.argmin() == SYNTHETIC_CLASSES.index('standing still')


def test_whole_body_classes_move_the_hips(single_person):
    def hip_rise(ann):
        kp, score = ann['keypoint'][0], ann['keypoint_score'][0]
        hips = np.where(score[:, 11:13] > 0, kp[:, 11:13, 1], np.nan)
        return float(np.nanmax(hips) - np.nanmin(hips)) / person_height(kp, score)

    rise = per_class(single_person, hip_rise)
    for moving in ('squatting down', 'jumping up'):
        for still in ('waving the right hand', 'clapping hands', 'standing still'):
            assert rise[SYNTHETIC_CLASSES.index(moving)] > 2 * rise[SYNTHETIC_CLASSES.index(still)]


def test_turning_around_hides_the_face(single_person):
    def low_face_scores(ann):
        face = ann['keypoint_score'][0, :, :3]
        return float(((face > 0) & (face < 0.5)).mean())

    hidden = per_class(single_person, low_face_scores)
    turning = hidden.pop(SYNTHETIC_CLASSES.index('turning around'))
    assert turning > 2 * max(hidden.values())


def test_forward_kinematics_of_a_standing_body():
    frames = 3
    pose = synthetic._neutral_pose(frames, np.random.default_rng(0))
    for key in ('lean', 'yaw', 'head_tilt', 'l_knee', 'r_knee'):
        pose[key] = np.zeros(frames)
    body = BodyShape()
    joints, visible = forward_kinematics(pose, body)
    assert joints.shape == (frames, 17, 2) and visible.all()
    y = joints[0, :, 1]
    # image y grows downwards: head above shoulders above hips above knees above ankles on the ground
    assert y[0] < y[5] < y[11] < y[13] < y[15]
    assert max(y[15], y[16]) == pytest.approx(0.0)
    for left, right in ((1, 2), (3, 4), (5, 6), (11, 12), (15, 16)):
        assert joints[0, left, 0] > joints[0, right, 0]
    thigh = np.linalg.norm(joints[0, 13] - joints[0, 11])
    assert thigh == pytest.approx(body.thigh * pose['l_th_fs'][0])


def test_arm_ik_reaches_its_target():
    rng = np.random.default_rng(0)
    frames = 8
    pose = synthetic._neutral_pose(frames, rng)
    pose['lean'] = np.zeros(frames)  # targets are relative to the torso; keep it upright
    body = BodyShape()
    # targets within reach: between |upper - fore| and upper + fore away from the shoulder
    distance = rng.uniform(0.05, 0.25, frames)
    direction = rng.uniform(-np.pi, np.pi, frames)
    target_out, target_down = distance * np.sin(direction), distance * np.cos(direction)
    synthetic._set_arm_target(pose, 'r', body, np.ones(frames), target_out, target_down, 0.8, 0.9)
    joints, _ = forward_kinematics(pose, body)
    wrist = joints[:, R_WRIST] - joints[:, 6]
    np.testing.assert_allclose(wrist[:, 0], -target_out, atol=1e-6)  # the right arm's outwards is -x
    np.testing.assert_allclose(wrist[:, 1], target_down, atol=1e-6)


def test_class_names_are_plain_lowercase_sentences():
    assert len(SYNTHETIC_CLASSES) >= 16
    assert len(set(SYNTHETIC_CLASSES)) == len(SYNTHETIC_CLASSES)
    for name in SYNTHETIC_CLASSES:
        assert re.fullmatch(r'[a-z]+( [a-z]+)*', name), name


def test_committed_class_list_matches():
    path = REPO_ROOT / 'lists' / 'synthetic.csv'
    assert path.read_text(encoding='utf-8') == class_list_csv()
    assert load_class_list(path) == list(SYNTHETIC_CLASSES)


def test_write_synthetic_dataset(tmp_path):
    out = tmp_path / 'nested' / 'synthetic.pkl'
    csv_path = tmp_path / 'classes.csv'
    data = write_synthetic_dataset(out, class_list_path=csv_path, num_train_per_class=1, num_val_per_class=1,
                                   seed=5)
    with open(out, 'rb') as f:
        loaded = pickle.load(f)
    assert loaded['split'] == data['split']
    np.testing.assert_array_equal(loaded['annotations'][-1]['keypoint'], data['annotations'][-1]['keypoint'])
    assert load_class_list(csv_path) == list(SYNTHETIC_CLASSES)
    assert sorted(p.name for p in out.parent.iterdir()) == ['synthetic.pkl']
    # the same permissions as any new file (not the owner-only mode of a temporary file)
    reference = tmp_path / 'reference'
    reference.write_bytes(b'')
    assert out.stat().st_mode == reference.stat().st_mode


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / 'synthetic.pkl'
    out.write_bytes(b'old')

    def fail(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(synthetic.os, 'replace', fail)
    with pytest.raises(OSError, match='disk full'):
        write_synthetic_dataset(out, num_train_per_class=1, num_val_per_class=0)
    assert out.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['synthetic.pkl']


@pytest.mark.parametrize('kwargs', [
    dict(num_train_per_class=-1),
    dict(num_train_per_class=0, num_val_per_class=0),
    dict(seed=-1),
    dict(min_frames=50, max_frames=40),
    dict(second_person_prob=1.5),
])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='synthetic dataset'):
        generate_synthetic_dataset(**kwargs)


def test_command_line(tmp_path, capsys):
    script = load_script()
    out, csv_path = tmp_path / 'out' / 'syn.pkl', tmp_path / 'syn.csv'
    script.main(['--out', str(out), '--list', str(csv_path), '--train-per-class', '2', '--val-per-class', '1',
                 '--seed', '4'])
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert len(data['split']['train']) == 2 * NUM_CLASSES
    assert len(data['split']['val']) == NUM_CLASSES
    assert csv_path.read_text(encoding='utf-8') == class_list_csv()
    summary = capsys.readouterr().out.strip()
    assert len(summary.splitlines()) == 1
    assert f'{NUM_CLASSES} classes' in summary and f'{2 * NUM_CLASSES} train' in summary
    assert str(out) in summary


def test_command_line_default_path_is_relative_to_the_current_directory(tmp_path, monkeypatch, capsys):
    script = load_script()
    monkeypatch.chdir(tmp_path)
    script.main(['--train-per-class', '1', '--val-per-class', '0'])
    assert (tmp_path / 'data' / 'synthetic' / 'synthetic.pkl').is_file()
    assert not os.path.exists(tmp_path / 'lists')


def test_command_line_rejects_a_bad_seed(tmp_path):
    script = load_script()
    with pytest.raises(SystemExit, match='seed'):
        script.main(['--out', str(tmp_path / 'x.pkl'), '--seed', '-2'])
    assert not (tmp_path / 'x.pkl').exists()
