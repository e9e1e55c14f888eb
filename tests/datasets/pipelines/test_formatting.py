import numpy as np
import pytest
import torch
from mmcv.parallel import DataContainer, collate

from pyskl.datasets.pipelines import Collect, FormatShape, ToTensor


def test_format_shape_heatmap_layout():
    # frame f of clip c holds value 100 * c + f in channel k scaled by k + 1
    num_clips, clip_len, channels = 3, 4, 2
    frames = np.arange(num_clips * clip_len, dtype=np.float32)
    imgs = frames[:, None, None, None] * np.array([1, 2], np.float32)[None, :, None, None] * np.ones((1, 1, 5, 6))
    results = FormatShape('NCTHW_Heatmap')(dict(imgs=imgs.astype(np.float32), num_clips=num_clips,
                                                 clip_len=clip_len))
    out = results['imgs']
    assert out.shape == (num_clips, channels, clip_len, 5, 6)
    assert results['input_shape'] == out.shape
    for c in range(num_clips):
        for k in range(channels):
            np.testing.assert_array_equal(out[c, k, :, 0, 0], (np.arange(clip_len) + c * clip_len) * (k + 1))


def test_format_shape_heatmap_double_and_collapse():
    imgs = np.zeros((2 * 8, 17, 4, 4), np.float32)
    imgs[8:] = 1
    out = FormatShape('NCTHW_Heatmap')(dict(imgs=imgs, num_clips=1, clip_len=8))['imgs']
    assert out.shape == (2, 17, 8, 4, 4)
    assert out[0].max() == 0 and out[1].min() == 1
    collapsed = FormatShape('NCTHW_Heatmap', collapse=True)(dict(imgs=imgs[:8], num_clips=1, clip_len=8))
    assert collapsed['imgs'].shape == (17, 8, 4, 4)
    with pytest.raises(ValueError, match='collapse'):
        FormatShape('NCTHW_Heatmap', collapse=True)(dict(imgs=imgs, num_clips=1, clip_len=8))


def test_format_shape_frames():
    imgs = np.random.RandomState(0).rand(2 * 3, 5, 6, 3).astype(np.float32)  # [clips * T, H, W, C]
    out = FormatShape('NCTHW')(dict(imgs=imgs, num_clips=2, clip_len=3))['imgs']
    assert out.shape == (2, 3, 3, 5, 6)
    np.testing.assert_array_equal(out[1, 2, 0], imgs[3, :, :, 2])
    out = FormatShape('NCHW')(dict(imgs=imgs))['imgs']
    assert out.shape == (6, 3, 5, 6)


def test_format_shape_errors():
    with pytest.raises(ValueError, match='input_format'):
        FormatShape('NTCHW')
    with pytest.raises(KeyError, match='num_clips'):
        FormatShape('NCTHW_Heatmap')(dict(imgs=np.zeros((8, 1, 2, 2)), clip_len=8))
    with pytest.raises(ValueError, match='multiple'):
        FormatShape('NCTHW_Heatmap')(dict(imgs=np.zeros((7, 1, 2, 2)), clip_len=4, num_clips=2))


def test_collect_without_and_with_meta():
    results = dict(imgs=np.zeros(2), label=4, img_shape=(8, 8), frame_dir='a')
    data = Collect(keys=['imgs', 'label'], meta_keys=[])(dict(results))
    assert set(data) == {'imgs', 'label'}
    data = Collect(keys=['imgs'], meta_keys=['img_shape', 'frame_dir'])(dict(results))
    assert set(data) == {'imgs', 'img_metas'}
    assert isinstance(data['img_metas'], DataContainer) and data['img_metas'].cpu_only
    assert data['img_metas'].data == dict(img_shape=(8, 8), frame_dir='a')
    nested = Collect(keys=['label'], meta_keys=[], nested=True)(dict(results))
    assert nested == dict(label=[4])


def test_collect_missing_key_is_named():
    with pytest.raises(KeyError, match='filename'):
        Collect(keys=['imgs'])(dict(imgs=np.zeros(2), label=1, frame_dir='clip7'))


def test_to_tensor_conversions():
    results = dict(imgs=np.ones((2, 3), np.float32), label=3, ratio=0.5, inds=[1, 2], t=torch.zeros(1))
    out = ToTensor(keys=['imgs', 'label', 'ratio', 'inds', 't'])(results)
    assert out['imgs'].dtype == torch.float32 and out['imgs'].shape == (2, 3)
    assert out['label'].dtype == torch.int64 and out['label'].ndim == 0 and int(out['label']) == 3
    assert out['ratio'].dtype == torch.float32 and float(out['ratio']) == 0.5
    assert out['inds'].tolist() == [1, 2]
    assert out['t'] is results['t']
    batch = collate([dict(label=ToTensor(['label'])(dict(label=i))['label']) for i in range(4)], samples_per_gpu=4)
    assert batch['label'].shape == (4, ) and batch['label'].tolist() == [0, 1, 2, 3]


def test_to_tensor_errors():
    with pytest.raises(KeyError, match='label'):
        ToTensor(keys=['label'])(dict(imgs=np.zeros(1)))
    with pytest.raises(TypeError, match='frame_dir'):
        ToTensor(keys=['frame_dir'])(dict(frame_dir='abc'))
