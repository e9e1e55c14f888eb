"""The config's data section: its known keys, the loader settings of each split, the evaluation loaders."""
import pytest
from mmcv import Config

from pyskl.datasets.from_config import check_data_keys, loader_settings


def test_unknown_data_keys_are_refused_with_the_known_ones():
    cfg = Config(dict(data=dict(videos_per_gpus=4, train=dict(), val=dict(), test=dict())))
    with pytest.raises(KeyError, match='videos_per_gpus') as err:
        check_data_keys(cfg)
    assert 'test_dataloader' in str(err.value) and 'workers_per_gpu' in str(err.value)
    with pytest.raises(KeyError, match='videos_per_gpus'):
        loader_settings(cfg, 'train')
    check_data_keys(Config(dict(data=dict(videos_per_gpu=4, workers_per_gpu=0, test_dataloader=dict(), train={}))))


def test_a_split_loader_overrides_the_shared_settings_and_refuses_unknown_keys():
    cfg = Config(dict(data=dict(videos_per_gpu=8, workers_per_gpu=2, pin_memory=True,
                                test_dataloader=dict(videos_per_gpu=1), train={}, val={}, test={})))
    assert loader_settings(cfg, 'test', persistent_workers=False) == dict(
        videos_per_gpu=1, workers_per_gpu=2, pin_memory=True, persistent_workers=False)
    assert loader_settings(cfg, 'train')['videos_per_gpu'] == 8
    cfg.data.val_dataloader = dict(video_per_gpu=2)
    with pytest.raises(KeyError, match=r'data.val_dataloader.*video_per_gpu'):
        loader_settings(cfg, 'val')
