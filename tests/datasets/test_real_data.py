"""Loading and validation of real pose-estimator output (a WLASL subset, 2D COCO-17 keypoints from HRNet)."""
import os.path as osp
import pickle

import numpy as np
import pytest

from pyskl.datasets.pose_dataset import PoseDataset

REAL_PKL = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data', 'wlasl_subset_234_coco17_2d.pkl')

pytestmark = pytest.mark.skipif(not osp.isfile(REAL_PKL), reason='the real-data pickle in ../shared/data is absent')


@pytest.fixture(scope='module')
def raw():
    with open(REAL_PKL, 'rb') as f:
        return pickle.load(f)


@pytest.fixture(scope='module')
def dataset():
    return PoseDataset(REAL_PKL, lambda results: results, split='test', test_mode=True)


def test_every_sample_loads_and_validates(raw, dataset):
    assert len(dataset) == len(raw['split']['test']) == 234
    assert [x['frame_dir'] for x in dataset.video_infos] == [x['frame_dir'] for x in raw['annotations']]
    for idx in range(len(dataset)):
        sample = dataset[idx]
        kp, score = sample['keypoint'], sample['keypoint_score']
        assert kp.ndim == 4 and kp.shape[2:] == (17, 2)
        assert score.shape == kp.shape[:3]
        assert sample['total_frames'] == kp.shape[1]
        assert sample['test_mode'] is True and sample['modality'] == 'Pose'
        # the stored annotation is handed out as a copy, identical in value
        np.testing.assert_array_equal(kp, raw['annotations'][idx]['keypoint'])


def test_keypoints_outside_the_image_are_kept(raw, dataset):
    # some y coordinates exceed the claimed image height: real data, not an error
    h, w = dataset.video_infos[0]['img_shape']
    assert max(float(x['keypoint'][..., 1].max()) for x in dataset.video_infos) > h


def test_labels_fit_the_gloss_vocabulary(dataset):
    # labels index WLASL's 2000 glosses; with num_classes=2000 nothing is rejected
    assert len(PoseDataset(REAL_PKL, None, split='test', test_mode=True, num_classes=2000)) == len(dataset)
    assert len(set(dataset.labels)) == 229
