"""Property-based test of annotation files: every input is usable end to end or refused with a named error.

Hypothesis builds annotation files of valid samples and then breaks them: fields removed or replaced by junk,
malformed image sizes, no person, negative scores, labels out of range, another joint count, repeated frame_dir,
broken top-level forms, truncated or foreign bytes, globals that would run code. For every file, building the
training and the test `PoseDataset` (with the model's ``num_classes``) either

- succeeds, and then every sample goes through the training and the test pipelines with its label unchanged and in
  range, and a tiny `Recognizer3D` trains and tests on the batch with finite numbers, or
- raises `AnnotationError` naming the file (and the sample, for a broken sample) in both modes;

never another exception, a hang (hypothesis' deadline) or a label that silently changed. Inputs that must be refused
(known-bad mutations) may not pass. The default run is small; ``-m slow`` has a bigger one.
"""
import os
import pickle
import re
import tempfile
from datetime import timedelta

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmcv.parallel import collate

from pyskl.datasets.errors import AnnotationError
from pyskl.datasets.pose_dataset import PoseDataset
from pyskl.models import build_model

NUM_CLASSES = 4
V = 17
CLIP_LEN = 4
SIZE = 12

TRAIN_PIPELINE = [
    dict(type='UniformSampleFrames', clip_len=CLIP_LEN),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 16)),
    dict(type='RandomResizedCrop', area_range=(0.7, 1.0)),
    dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label']),
]
TEST_PIPELINE = [
    dict(type='UniformSampleFrames', clip_len=CLIP_LEN, num_clips=2),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=False),
    dict(type='GeneratePoseTarget', with_kp=True, with_limb=False, double=True),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label']),
]

_MODEL = []


def tiny_model():
    """One tiny PoseC3D for the whole module (built on first use)."""
    if not _MODEL:
        torch.manual_seed(0)
        _MODEL.append(build_model(dict(
            type='Recognizer3D',
            backbone=dict(type='ResNet3dSlowOnly', in_channels=V, base_channels=4, num_stages=3, out_indices=(2, ),
                          stage_blocks=(1, 1, 1), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                          spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2)),
            cls_head=dict(type='I3DHead', in_channels=64, num_classes=NUM_CLASSES, dropout=0),
            test_cfg=dict(average_clips='prob'))))
    return _MODEL[0]


class Payload:
    """Unpickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# ------------------------------------------------------------------ strategies

JUNK = st.one_of(st.none(), st.text(max_size=6), st.integers(-5, 10**6), st.floats(allow_nan=True),
                 st.booleans(), st.lists(st.integers(-3, 50), max_size=4).map(tuple),
                 st.sampled_from([np.zeros(3), np.zeros((2, 2), np.int8), np.array(['a', 'b']),
                                  np.array([None], dtype=object), np.zeros((1, 2, 3, 2), np.complex64),
                                  np.zeros((1, 2, 17, 2), bool), {'a': 1}, b'\x00']))


@st.composite
def valid_sample(draw, name: str) -> dict:
    """A well-formed 2D sample: 1-3 people, 1-8 frames, 17 joints, coordinates in and somewhat outside the image."""
    people, frames = draw(st.integers(1, 3)), draw(st.integers(1, 8))
    h, w = draw(st.integers(1, 1080)), draw(st.integers(1, 1920))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = draw(st.sampled_from([0.0, 0.01, 1.0, 3.0]))  # 0: all joints at one point; 3: far outside the image
    keypoint = (rng.random((people, frames, V, 2)) * spread - spread / 3) * np.array([w, h])
    score = rng.random((people, frames, V))
    missing = rng.random((people, frames, V)) < draw(st.sampled_from([0.0, 0.3, 1.0]))  # 1.0: nobody is seen
    keypoint[missing] = 0
    score[missing] = 0
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))
    integer = draw(st.sampled_from([int, np.int64, np.int32]))  # pickles written by numpy code hold numpy ints
    shape = draw(st.sampled_from([tuple, list, np.array]))((h, w))
    return dict(frame_dir=name, label=integer(draw(st.integers(0, NUM_CLASSES - 1))), total_frames=integer(frames),
                img_shape=shape, original_shape=(h, w), keypoint=keypoint.astype(dtype),
                keypoint_score=score.astype(dtype))


def _replace(sample: dict, field: str, value) -> dict:
    out = dict(sample)
    out[field] = value
    return out


@st.composite
def broken_sample(draw, sample: dict):
    """``(sample, must_fail)``: ``sample`` with one fault; ``must_fail`` when no dataset may accept it."""
    kind = draw(st.sampled_from(['drop', 'junk', 'img_shape', 'no_person', 'negative_score', 'label', 'frames',
                                 'nan', 'score_shape', 'int_keypoint']))
    kp, score = sample['keypoint'], sample['keypoint_score']
    if kind == 'drop':
        field = draw(st.sampled_from(sorted(sample)))
        out = {k: v for k, v in sample.items() if k != field}
        return out, field not in ('original_shape', 'keypoint_score')
    if kind == 'junk':
        field = draw(st.sampled_from(sorted(sample)))
        return _replace(sample, field, draw(JUNK)), None
    if kind == 'img_shape':
        field = draw(st.sampled_from(['img_shape', 'original_shape']))
        bad = draw(st.sampled_from(['480x640', (0, 0), (-480, 640), (480, 0), (480, ), (480, 640, 3), (480.0, 640.0),
                                    None, [[480, 640]]]))
        return _replace(sample, field, bad), True
    if kind == 'no_person':
        return dict(sample, keypoint=kp[:0], keypoint_score=score[:0]), True
    if kind == 'negative_score':
        score = score.copy()
        score.flat[draw(st.integers(0, score.size - 1))] = -draw(st.floats(1e-3, 10))
        return _replace(sample, 'keypoint_score', score), True
    if kind == 'label':
        label = draw(st.one_of(st.integers(NUM_CLASSES, NUM_CLASSES + 100), st.integers(-100, -1)))
        return _replace(sample, 'label', label), True
    if kind == 'frames':
        return _replace(sample, 'total_frames', sample['total_frames'] + draw(st.sampled_from([-1, 1, 5]))), True
    if kind == 'nan':
        kp = kp.copy()
        kp.flat[draw(st.integers(0, kp.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return _replace(sample, 'keypoint', kp), True
    if kind == 'score_shape':
        return _replace(sample, 'keypoint_score', score[..., :-1]), True
    return _replace(sample, 'keypoint', np.round(kp).astype(draw(st.sampled_from([np.int16, np.int64])))), None


@st.composite
def annotation_file(draw):
    """``(payload bytes, split, must_fail, broken sample indices)`` of a whole annotation file."""
    count = draw(st.integers(1, 4))
    samples = [draw(valid_sample(f'clip{i}')) for i in range(count)]
    must_fail, broken = False, set()
    for i in draw(st.sets(st.integers(0, count - 1), max_size=2)):
        samples[i], fails = draw(broken_sample(samples[i]))
        broken.add(i)
        must_fail = must_fail or bool(fails)
    if count >= 2 and draw(st.integers(0, 2)) == 0:
        fault = draw(st.sampled_from(['joints', 'duplicate', 'coords']))
        i = draw(st.integers(1, count - 1))
        sample = samples[i]
        if fault == 'duplicate':
            sample['frame_dir'] = samples[0]['frame_dir'] if 'frame_dir' in samples[0] else 'clip0'
        elif isinstance(sample.get('keypoint'), np.ndarray) and sample['keypoint'].ndim == 4:
            m, t = sample['keypoint'].shape[:2]
            joints, coords = (draw(st.sampled_from([1, 16, 25])), 2) if fault == 'joints' else (V, 3)
            sample['keypoint'] = np.ones((m, t, joints, coords), np.float32)
            sample['keypoint_score'] = np.ones((m, t, joints), np.float32)
        broken.add(i)
        must_fail = True
    file_fault = draw(st.integers(0, 3)) == 0  # a quarter of the files are broken as a whole
    form = draw(st.sampled_from(['split_ghost', 'split_junk', 'top_junk', 'truncated', 'foreign', 'global']
                                if file_fault else
                                ['dict', 'dict', 'list']))
    if form == 'list':
        data = samples
    elif form == 'top_junk':
        data, must_fail = draw(st.one_of(JUNK, st.just(dict(split={}, annotations='x')))), True
    else:
        names = [s.get('frame_dir') for s in samples]
        split = dict(train=names + (['ghost'] if form == 'split_ghost' else []))
        if form == 'split_junk':
            split['train'] = draw(st.one_of(JUNK, st.lists(JUNK, min_size=1, max_size=3)))
        data = dict(split=split, annotations=samples)
        must_fail = must_fail or form == 'split_ghost'
        if form == 'split_junk':  # it may leave out the broken samples (unchecked) or name a junk frame_dir
            must_fail = False
    if form == 'global':
        data['annotations'].append(Payload(os.getcwd))
        must_fail = True
    try:
        payload = pickle.dumps(data, protocol=draw(st.sampled_from([2, 4, 5])))
    except (pickle.PicklingError, TypeError, ValueError):
        payload = pickle.dumps(samples)
    if form == 'truncated':
        payload, must_fail = payload[:draw(st.integers(0, len(payload) - 1))], True
    elif form == 'foreign':
        foreign = [b'', b'id,name\n0,x\n', b'\x80\x05\x95garbage', b'PK\x03\x04']
        payload, must_fail = draw(st.sampled_from(foreign)), True
    return payload, 'train' if isinstance(data, dict) else None, must_fail, broken


# ------------------------------------------------------------------ the property


def build(path: str, split, test_mode: bool) -> PoseDataset:
    return PoseDataset(path, TEST_PIPELINE if test_mode else TRAIN_PIPELINE, split=split, num_classes=NUM_CLASSES,
                       test_mode=test_mode)


def check_file(payload: bytes, split, must_fail: bool, broken: set) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'fuzz.pkl')
        with open(path, 'wb') as f:
            f.write(payload)
        outcomes = []
        for test_mode in (False, True):
            try:
                outcomes.append(build(path, split, test_mode))
            except AnnotationError as e:
                message = str(e)
                assert path in message, message
                found = re.search(r'sample (\d+)', message)
                if found:  # a sample-level error names a sample that was broken, and the field
                    assert int(found.group(1)) in broken and "field '" in message, (sorted(broken), message)
                outcomes.append(message)
        train, test = outcomes
        assert isinstance(train, str) == isinstance(test, str), outcomes  # the same verdict in both modes
        if isinstance(train, str):
            return
        assert not must_fail, f'a broken file was accepted (broken samples {sorted(broken)}): {describe(payload)}'
        run_end_to_end(train, test)


def describe(payload: bytes) -> str:
    """The file's samples, field by field (shapes and dtypes for arrays), for the message of a failure."""
    def field(value):
        if isinstance(value, np.ndarray):
            return f'array{value.shape} {value.dtype}'
        return repr(value)[:40]
    data = pickle.loads(payload)
    samples = data['annotations'] if isinstance(data, dict) else data
    split = data.get('split') if isinstance(data, dict) else None
    return f'split {split}; ' + '; '.join(
        '{' + ', '.join(f'{k}: {field(v)}' for k, v in s.items()) + '}' if isinstance(s, dict) else repr(s)
        for s in samples)


def run_end_to_end(train: PoseDataset, test: PoseDataset) -> None:
    model = tiny_model()
    batches = {}
    for mode, dataset in (('train', train), ('test', test)):
        outputs = []
        for i in range(len(dataset)):
            out = dataset[i]
            expected = dataset.video_infos[i]['label']
            assert int(out['label']) == expected and 0 <= expected < NUM_CLASSES  # no silent change of label
            assert torch.isfinite(out['imgs']).all()
            outputs.append(out)
        batches[mode] = collate(outputs, samples_per_gpu=len(outputs))
    model.train()
    losses = model(batches['train']['imgs'], batches['train']['label'], return_loss=True)
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        scores = model(batches['test']['imgs'], return_loss=False)
    assert scores.shape == (len(test), NUM_CLASSES)
    assert np.isfinite(scores).all()


FAST = settings(max_examples=100, deadline=timedelta(seconds=30), database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(annotation_file())
def test_every_annotation_file_is_usable_or_refused(case):
    check_file(*case)


@pytest.mark.slow
@settings(FAST, max_examples=2000)
@given(annotation_file())
def test_every_annotation_file_is_usable_or_refused_many(case):
    check_file(*case)
