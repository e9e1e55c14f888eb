"""Device-side heatmaps: `FormatCompactKeypoints` + `HeatmapGenerator` (inside the recognizer) equal the CPU path."""
import copy
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from mmcv import Config
from mmcv.parallel import collate

from pyskl.datasets import build_dataset
from pyskl.datasets.pipelines import Compose, FormatCompactKeypoints, GeneratePoseTarget
from pyskl.datasets.pipelines.keypoint_formatting import PAD_COORDINATE
from pyskl.models import build_model
from pyskl.models.common import HeatmapGenerator

REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO_ROOT / 'configs' / 'posec3d' / 'slowonly_r50_ntu60_xsub'
MODES = {'kp': dict(with_kp=True, with_limb=False), 'limb': dict(with_kp=False, with_limb=True),
         'both': dict(with_kp=True, with_limb=True)}


def annotation(rng, num_people=2, num_frames=12, img_shape=(24, 32), margin=4.):
    height, width = img_shape
    kps = np.stack([rng.uniform(-margin, width + margin, (num_people, num_frames, 17)),
                    rng.uniform(-margin, height + margin, (num_people, num_frames, 17))], axis=-1)
    scores = rng.choice([0., 5e-4, 0.2, 0.7, 1.], (num_people, num_frames, 17))
    kps[:, :, 7] = kps[:, :, 5] + rng.uniform(-0.5, 0.5, (num_people, num_frames, 2))  # some limbs < 1 pixel
    return dict(keypoint=kps.astype(np.float32), keypoint_score=scores.astype(np.float32), img_shape=img_shape)


def cpu_volume(results, num_clips, clip_len, **kwargs):
    """GeneratePoseTarget -> FormatShape: [num_clips (x2), C, clip_len, H, W]."""
    pipeline = Compose([dict(type='GeneratePoseTarget', **kwargs),
                        dict(type='FormatShape', input_format='NCTHW_Heatmap')])
    return pipeline(dict(results, num_clips=num_clips, clip_len=clip_len))['imgs']


def compact(results, num_clips, clip_len, max_people=3):
    out = FormatCompactKeypoints(max_people)(dict(results, num_clips=num_clips, clip_len=clip_len))
    return {key: torch.as_tensor(np.asarray(out[key])) for key in ('keypoint', 'keypoint_score', 'img_shape')}


def test_compact_keypoints_layout_and_padding():
    rng = np.random.RandomState(0)
    results = dict(annotation(rng, num_people=1, num_frames=6), num_clips=2, clip_len=3)
    out = FormatCompactKeypoints(max_people=2)(copy.deepcopy(results))
    assert out['keypoint'].shape == (2, 2, 3, 17, 2) and out['keypoint'].dtype == np.float32
    assert out['keypoint_score'].shape == (2, 2, 3, 17)
    # clip c, person 0, frame t is frame c * clip_len + t of the sampled sequence
    np.testing.assert_array_equal(out['keypoint'][1, 0, 2], results['keypoint'][0, 5])
    np.testing.assert_array_equal(out['keypoint_score'][0, 0], results['keypoint_score'][0, :3])
    assert (out['keypoint'][:, 1] == PAD_COORDINATE).all() and not out['keypoint_score'][:, 1].any()
    assert out['img_shape'] == (24, 32)
    del results['keypoint_score']
    assert (FormatCompactKeypoints(max_people=2)(results)['keypoint_score'][:, 0] == 1).all()


def test_compact_keypoints_keep_the_most_confident_people():
    rng = np.random.RandomState(1)
    results = dict(annotation(rng, num_people=4, num_frames=4), num_clips=1, clip_len=4)
    results['keypoint_score'][:] = np.array([0.2, 0.9, 0.1, 0.8], np.float32)[:, None, None]
    out = FormatCompactKeypoints(max_people=2)(copy.deepcopy(results))
    np.testing.assert_array_equal(out['keypoint'][0], results['keypoint'][[1, 3]])  # original order kept


def test_compact_keypoints_errors():
    with pytest.raises(ValueError, match='max_people'):
        FormatCompactKeypoints(max_people=0)
    results = dict(annotation(np.random.RandomState(2), num_frames=5), num_clips=2, clip_len=3)
    with pytest.raises(ValueError, match='num_clips'):
        FormatCompactKeypoints()(results)
    with pytest.raises(KeyError, match='UniformSampleFrames'):
        FormatCompactKeypoints()(dict(keypoint=results['keypoint'], img_shape=(4, 4)))


@pytest.mark.parametrize('mode', list(MODES))
@pytest.mark.parametrize('double', [False, True])
@pytest.mark.parametrize('use_score', [True, False])
def test_generator_equals_cpu_pipeline(mode, double, use_score):
    rng = np.random.RandomState(len(mode) + 2 * double + 4 * use_score)
    num_clips, clip_len = 2, 3
    args = dict(sigma=0.7, double=double, use_score=use_score, **MODES[mode])
    # a batch of two samples with different numbers of people (1 and 3), padded to 3
    samples = [annotation(rng, num_people=m, num_frames=num_clips * clip_len) for m in (1, 3)]
    batch = collate([compact(s, num_clips, clip_len) for s in samples])
    volume = HeatmapGenerator(**args)(batch['keypoint'], batch['keypoint_score'], batch['img_shape'])
    assert volume.shape == (2, num_clips * (2 if double else 1)) + cpu_volume(samples[0], num_clips, clip_len,
                                                                              **args).shape[1:]
    for index, sample in enumerate(samples):
        expected = cpu_volume(sample, num_clips, clip_len, **args)
        assert expected.max() > 0.5
        np.testing.assert_allclose(volume[index].numpy(), expected, rtol=0, atol=1e-5)


def test_generator_scaling_sigma_and_non_square_images():
    rng = np.random.RandomState(5)
    sample = annotation(rng, num_people=2, num_frames=4, img_shape=(20, 9))
    args = dict(sigma=1.4, scaling=1.5, with_kp=True, with_limb=True, double=True)
    inputs = compact(sample, 2, 2)
    volume = HeatmapGenerator(**args)(inputs['keypoint'][None], inputs['keypoint_score'][None], (20, 9))
    expected = cpu_volume(sample, 2, 2, **args)
    assert volume.shape[1:] == expected.shape == (4, 17 + 17, 2, 30, 14)
    np.testing.assert_allclose(volume[0].numpy(), expected, rtol=0, atol=1e-5)


def test_generator_input_errors():
    generator = HeatmapGenerator()
    keypoint = torch.zeros(2, 1, 1, 3, 17, 2)
    with pytest.raises(ValueError, match='FormatCompactKeypoints'):
        generator(keypoint[0], None, (8, 8))
    with pytest.raises(ValueError, match='different img_shape'):
        generator(keypoint, None, torch.tensor([[8, 8], [8, 9]]))
    with pytest.raises(ValueError, match='keypoint_score'):
        generator(keypoint, torch.ones(2, 1, 1, 3, 16), (8, 8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_generator_on_cuda_equals_cpu():
    rng = np.random.RandomState(6)
    sample = annotation(rng, num_people=2, num_frames=8)
    inputs = compact(sample, 2, 4)
    args = dict(with_kp=True, with_limb=True, double=True)
    volume = HeatmapGenerator(**args)(inputs['keypoint'][None].cuda(), inputs['keypoint_score'][None].cuda(),
                                      inputs['img_shape'].cuda())
    assert volume.is_cuda
    np.testing.assert_allclose(volume[0].cpu().numpy(), cpu_volume(sample, 2, 4, **args), rtol=0, atol=1e-3)


def tiny_recognizer(**cfg_kwargs):
    cfg = dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dSlowOnly', base_channels=4, stage_blocks=(1, 1, 1)),
        cls_head=dict(type='I3DHead', in_channels=64, num_classes=5, dropout=0),
        test_cfg=dict(average_clips='prob'))
    cfg.update(cfg_kwargs)
    torch.manual_seed(0)
    return build_model(cfg)


@pytest.fixture(scope='module')
def tiny_pickle(tmp_path_factory):
    from pyskl.datasets.synthetic import generate_synthetic_dataset
    data = generate_synthetic_dataset(num_train_per_class=1, num_val_per_class=0, seed=5, min_frames=20, max_frames=30)
    path = tmp_path_factory.mktemp('device_heatmap') / 'tiny.pkl'
    frame_dirs = [a['frame_dir'] for a in data['annotations']]
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=frame_dirs, xsub_val=frame_dirs), annotations=data['annotations']), f)
    return str(path)


def config_dataset(name, split, ann_file, **overrides):
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    ds_cfg = copy.deepcopy(cfg.data[split])
    while ds_cfg.get('type') == 'RepeatDataset':
        ds_cfg = ds_cfg['dataset']
    ds_cfg['ann_file'] = ann_file
    for step in ds_cfg['pipeline']:  # a light clip: 2 clips of 8 frames
        if step['type'] == 'UniformSampleFrames':
            step.update(overrides)
    return cfg, build_dataset(ds_cfg, dict(test_mode=split != 'train'))


@pytest.mark.parametrize('split', ['train', 'test'])
def test_device_config_gives_the_volumes_of_the_cpu_config(split, tiny_pickle):
    overrides = dict(clip_len=8) if split == 'train' else dict(clip_len=8, num_clips=2)
    _, cpu_dataset = config_dataset('joint.py', split, tiny_pickle, **overrides)
    cfg, device_dataset = config_dataset('joint_device_heatmap.py', split, tiny_pickle, **overrides)
    model = build_model(cfg.model)
    for index in (0, 3):
        np.random.seed(index)  # the training pipelines crop and flip at random: draw the same numbers
        cpu = cpu_dataset[index]
        np.random.seed(index)
        sample = device_dataset[index]
        assert 'imgs' not in sample and sample['keypoint'].shape[:2] == (1 if split == 'train' else 2, 2)
        batch = collate([sample])
        imgs = model.keypoints_to_imgs(batch, train=split == 'train')
        assert imgs.shape == (1, ) + tuple(cpu['imgs'].shape)
        np.testing.assert_allclose(imgs[0].numpy(), cpu['imgs'].numpy(), rtol=0, atol=1e-5)


def test_recognizer_scores_and_losses_equal_the_cpu_path():
    rng = np.random.RandomState(7)
    num_clips, clip_len, img_shape = 2, 4, (16, 16)
    heatmap = dict(sigma=0.6, with_kp=True, double=True)
    samples = [annotation(rng, num_people=m, num_frames=num_clips * clip_len, img_shape=img_shape) for m in (2, 1)]
    imgs = torch.stack([torch.from_numpy(cpu_volume(s, num_clips, clip_len, **heatmap)) for s in samples])
    batch = collate([compact(s, num_clips, clip_len, max_people=2) for s in samples])
    label = torch.tensor([1, 3])

    model = tiny_recognizer(train_cfg=dict(heatmap=heatmap), test_cfg=dict(average_clips='prob', heatmap=heatmap))
    model.eval()
    with torch.no_grad():
        expected = model(imgs, return_loss=False)
        scores = model(return_loss=False, label=label, **batch)
    assert scores.shape == (2, 5)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)

    model.train()
    expected = model.train_step(dict(imgs=imgs, label=label))
    result = model.train_step(dict(label=label, **batch))
    assert result['num_samples'] == 2
    assert result['loss'].requires_grad
    assert result['log_vars']['loss_cls'] == pytest.approx(expected['log_vars']['loss_cls'], rel=1e-5)


def test_recognizer_without_the_option_asks_for_it():
    model = tiny_recognizer().eval()
    batch = collate([compact(annotation(np.random.RandomState(8), num_frames=4), 1, 4)])
    with pytest.raises(ValueError, match='test_cfg has no "heatmap"'):
        model(return_loss=False, **batch)
    with pytest.raises(ValueError, match='train_cfg has no "heatmap"'):
        model.train_step(dict(label=torch.tensor([0]), **batch))
    with pytest.raises(ValueError, match='needs `imgs`'):
        model(return_loss=False)
    with pytest.raises(TypeError, match='GeneratePoseTarget arguments'):
        tiny_recognizer(test_cfg=dict(heatmap=True))


def test_the_option_adds_nothing_to_checkpoints():
    plain = tiny_recognizer()
    with_option = tiny_recognizer(train_cfg=dict(heatmap=dict()), test_cfg=dict(heatmap=dict(double=True)))
    assert isinstance(with_option.test_heatmap, HeatmapGenerator) and plain.test_heatmap is None
    assert list(with_option.state_dict()) == list(plain.state_dict())
    with_option.load_state_dict(plain.state_dict(), strict=True)


def test_generator_checks_its_arguments_like_the_pipeline_step():
    with pytest.raises(ValueError, match='with_kp and with_limb are both False'):
        HeatmapGenerator(with_kp=False, with_limb=False)
    with pytest.raises(ValueError, match='sigma and scaling must be positive'):
        HeatmapGenerator(sigma=0)
    with pytest.raises(TypeError, match='sigmaa'):
        HeatmapGenerator(sigmaa=0.6)
    with pytest.raises(TypeError):  # keyword arguments only: no positional value lands on the wrong argument
        HeatmapGenerator(0.6)
    generator = HeatmapGenerator(with_limb=True, double=True, scaling=0.5)
    step = GeneratePoseTarget(with_limb=True, double=True, scaling=0.5)
    assert repr(generator.spec).split('(', 1)[1] == repr(step).split('(', 1)[1]
    np.testing.assert_array_equal(generator.spec.mirror_order(17), step.mirror_order(17))
    with pytest.raises(ValueError, match='skeletons name joints up to 16'):
        generator(torch.zeros(1, 1, 1, 2, 5, 2), None, (8, 8))
