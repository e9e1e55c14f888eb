"""DecompressPose: compressed rows (frame_inds [N], keypoint [N, V, 3]) to [M, T, V, 2] arrays, as in pyskl."""
import numpy as np
import pytest

from pyskl.datasets.builder import PIPELINES
from pyskl.datasets.pipelines import DecompressPose


def rows(frame_inds, num_joints=2):
    """Row r has x = 10 r + j, y = 100 + r and score (r + 1) / 10 for every joint j."""
    n = len(frame_inds)
    kp = np.zeros((n, num_joints, 3), np.float32)
    for r in range(n):
        kp[r, :, 0] = 10 * r + np.arange(num_joints)
        kp[r, :, 1] = 100 + r
        kp[r, :, 2] = (r + 1) / 10
    return dict(frame_dir='clip', total_frames=7, frame_inds=np.array(frame_inds), keypoint=kp)


def test_registered_and_default_arguments():
    op = PIPELINES.build(dict(type='DecompressPose'))
    assert isinstance(op, DecompressPose) and op.squeeze and op.max_person == 10


def test_squeeze_renumbers_frames_and_places_persons_in_order():
    sample = rows([0, 0, 2, 5, 5, 5])
    out = DecompressPose(squeeze=True)(sample)
    kp, score = out['keypoint'], out['keypoint_score']
    # frames 0, 2, 5 become 0, 1, 2; frame 5 has three persons, so M = 3
    assert kp.shape == (3, 3, 2, 2) and score.shape == (3, 3, 2)
    assert kp.dtype == np.float16 and score.dtype == np.float16
    assert out['total_frames'] == 3
    assert 'frame_inds' not in out
    expected_slot = {(0, 0): 0, (1, 0): 1, (0, 1): 2, (0, 2): 3, (1, 2): 4, (2, 2): 5}  # (slot, frame) -> row
    for m in range(3):
        for t in range(3):
            row = expected_slot.get((m, t))
            if row is None:
                assert not kp[m, t].any() and not score[m, t].any(), (m, t)
            else:
                np.testing.assert_array_equal(kp[m, t], [[10 * row, 100 + row], [10 * row + 1, 100 + row]])
                np.testing.assert_array_equal(score[m, t], np.float16((row + 1) / 10))


def test_without_squeeze_frames_without_persons_stay_empty():
    out = DecompressPose(squeeze=False)(rows([0, 0, 2, 5, 5, 5]))
    assert out['keypoint'].shape == (3, 7, 2, 2) and out['total_frames'] == 7
    present = out['keypoint_score'].any(axis=-1)  # [M, T]
    np.testing.assert_array_equal(present, [[1, 0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(out['keypoint'][0, 2, :, 0], [20, 21])  # row 2 at frame 2
    np.testing.assert_array_equal(out['keypoint'][2, 5, :, 1], [105, 105])  # row 5, third person of frame 5


def test_anno_inds_select_rows_as_mask_or_indices():
    mask = np.array([True, False, True, True, True, False])
    by_mask = DecompressPose()(dict(rows([0, 0, 2, 5, 5, 5]), anno_inds=mask))
    by_index = DecompressPose()(dict(rows([0, 0, 2, 5, 5, 5]), anno_inds=np.flatnonzero(mask)))
    for out in (by_mask, by_index):
        assert out['keypoint'].shape == (2, 3, 2, 2) and 'anno_inds' not in out
        np.testing.assert_array_equal(out['keypoint'][:, :, 0, 0], [[0, 20, 30], [0, 0, 40]])


def test_max_person_keeps_the_highest_summed_scores_per_frame():
    sample = rows([0, 0, 0, 1, 1], num_joints=3)
    # summed scores (exact in float16): frame 0 rows 0.375 | 2.25 | 1.5, frame 1 rows 1 | 1 (a tie keeps row order)
    sample['keypoint'][:, :, 2] = [[0.125] * 3, [0.75] * 3, [0.5] * 3, [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]
    out = DecompressPose(max_person=2)(sample)
    assert out['keypoint'].shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(out['keypoint'][:, 0, 0, 0], [10, 20])  # rows 1 then 2; row 0 dropped
    np.testing.assert_array_equal(out['keypoint'][:, 1, 0, 0], [30, 40])  # tie: rows 3 then 4
    np.testing.assert_array_equal(out['keypoint_score'][:, 0, 0], np.float16([0.75, 0.5]))
    # at or below max_person nothing is reordered
    kept = DecompressPose(max_person=3)(rows([0, 0, 0, 1, 1], num_joints=3))
    np.testing.assert_array_equal(kept['keypoint'][:, 0, 0, 0], [0, 10, 20])


def reference_decompress(frame_inds, keypoint, total_frames, squeeze, max_person):
    """Frame-by-frame loop following the description in DESIGN.md (independent of the vectorised code)."""
    frames = sorted(set(frame_inds.tolist())) if squeeze else list(range(total_frames))
    per_frame = [[r for r in range(len(frame_inds)) if frame_inds[r] == f] for f in frames]
    num_person = max(len(p) for p in per_frame)
    score16 = keypoint[..., 2].astype(np.float16)
    if num_person > max_person:
        per_frame = [sorted(p, key=lambda r: -score16[r].sum())[:max_person] for p in per_frame]
        num_person = max_person
    kp = np.zeros((num_person, len(frames), keypoint.shape[1], 2), np.float16)
    score = np.zeros((num_person, len(frames), keypoint.shape[1]), np.float16)
    for t, persons in enumerate(per_frame):
        for m, r in enumerate(persons):
            kp[m, t] = keypoint[r, :, :2]
            score[m, t] = score16[r]
    return kp, score


@pytest.mark.parametrize('seed', range(12))
@pytest.mark.parametrize('squeeze', [True, False])
def test_matches_a_frame_by_frame_loop(seed, squeeze):
    rng = np.random.default_rng(seed)
    total = int(rng.integers(1, 30))
    frame_inds = np.sort(rng.integers(0, total, size=int(rng.integers(1, 40))))
    keypoint = rng.random((len(frame_inds), 5, 3)).astype(np.float32) * [200, 100, 1]
    max_person = int(rng.integers(1, 5))
    out = DecompressPose(squeeze=squeeze, max_person=max_person)(
        dict(frame_dir='r', total_frames=total, frame_inds=frame_inds, keypoint=keypoint))
    kp, score = reference_decompress(frame_inds, keypoint, total, squeeze, max_person)
    np.testing.assert_array_equal(out['keypoint'], kp)
    np.testing.assert_array_equal(out['keypoint_score'], score)
    assert out['total_frames'] == kp.shape[1]


@pytest.mark.parametrize('change, field, fragment', [
    (dict(frame_inds=np.array([0, 2, 1, 5, 5, 5])), 'frame_inds', 'non-decreasing'),
    (dict(keypoint=np.zeros((6, 2, 2), np.float32)), 'keypoint', r'\[N, V, 3\]'),
    (dict(keypoint=np.zeros((5, 2, 3), np.float32)), 'keypoint', 'N = 6'),
    (dict(frame_inds=None), 'frame_inds', 'missing'),
    (dict(anno_inds=np.zeros(6, bool)), 'keypoint', 'box_thr'),
    (dict(anno_inds=np.ones(4, bool)), 'anno_inds', 'mask'),
    (dict(frame_inds=np.array([-1, 0, 2, 5, 5, 5])), 'frame_inds', 'negative'),
])
def test_bad_samples_name_the_sample_and_field(change, field, fragment):
    sample = rows([0, 0, 2, 5, 5, 5])
    for key, value in change.items():
        if value is None:
            del sample[key]
        else:
            sample[key] = value
    with pytest.raises(ValueError, match=rf"sample 'clip', field '{field}'.*{fragment}"):
        DecompressPose()(sample)


def test_frame_beyond_total_frames_without_squeeze():
    sample = rows([0, 9])
    with pytest.raises(ValueError, match="field 'frame_inds'.*frame 9 but total_frames is 7"):
        DecompressPose(squeeze=False)(sample)
    assert DecompressPose(squeeze=True)(rows([0, 9]))['total_frames'] == 2


@pytest.mark.parametrize('max_person', [0, -1, 1.5, True])
def test_bad_max_person(max_person):
    with pytest.raises(ValueError, match='max_person'):
        DecompressPose(max_person=max_person)
