"""Configs state each thing once: the ResNet3dSlowOnly arguments in one file, the PACL model base on the Visece one.

Expectations are derived from the configs themselves (the merged config of the base a file inherits, the source
of the files), so the tests follow legitimate edits of a base and fail on a restated or diverging copy.
"""
import ast
import copy
import inspect
from functools import cache
from pathlib import Path
from typing import Set

import pytest
from mmcv import Config

from pyskl.models.cnns.visece_video import Visece_Video

CONFIG_ROOT = Path(__file__).resolve().parents[2] / 'configs'
MODEL_BASES = CONFIG_ROOT / '_base_' / 'models'
# the structure of PoseC3D's ResNet3dSlowOnly; variants change only widths and depths (base_channels, stage_blocks)
SLOWONLY_STRUCTURE = ('in_channels', 'num_stages', 'out_indices', 'conv1_stride', 'pool1_stride', 'inflate',
                      'spatial_strides', 'temporal_strides')
SLOWONLY_TYPES = ('ResNet3dSlowOnly', 'Visece_Video', 'Visece_Video_PACL')
EXPERIMENTS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)


@cache
def merged(path: Path) -> dict:
    return Config.fromfile(str(path))._cfg_dict.to_dict()


def stated_keywords(path: Path) -> Set[str]:
    """Every keyword argument of a ``dict(...)`` call written in the file."""
    return {node.arg for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.keyword) and node.arg}


def base_of(path: Path) -> list:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == '_base_':
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


def slowonly_encoders(cfg: dict) -> dict:
    """The ResNet3dSlowOnly-based parts of a merged config's model, by key (backbone, video_encoder)."""
    model = cfg.get('model') or {}
    return {key: model[key] for key in ('backbone', 'video_encoder')
            if isinstance(model.get(key), dict) and model[key].get('type') in SLOWONLY_TYPES}


def test_the_slowonly_structure_is_written_in_one_file():
    stating = sorted(str(p.relative_to(CONFIG_ROOT)) for p in CONFIG_ROOT.rglob('*.py')
                     if stated_keywords(p) & set(SLOWONLY_STRUCTURE[1:]))
    assert len(stating) == 1, f'the ResNet3dSlowOnly arguments are restated in {stating}; inherit them instead'


@pytest.mark.parametrize('path', EXPERIMENTS, ids=[str(p.relative_to(CONFIG_ROOT)) for p in EXPERIMENTS])
def test_every_slowonly_encoder_gets_the_shared_structure(path):
    reference = merged(MODEL_BASES / 'posec3d_slowonly_r50.py')['model']['backbone']
    for key, encoder in slowonly_encoders(merged(path)).items():
        for arg in SLOWONLY_STRUCTURE:
            assert encoder.get(arg) == reference[arg], f'{path.name}: model.{key}.{arg}'


def test_the_video_encoder_base_moves_the_backbone_unchanged():
    backbone = merged(MODEL_BASES / 'posec3d_slowonly_r50.py')['model']['backbone']
    assert merged(MODEL_BASES / 'slowonly_r50_video_encoder.py')['model'] == dict(video_encoder=backbone)


def test_the_pacl_base_inherits_the_visece_base():
    pacl_path = MODEL_BASES / 'visece_pacl_r50_bert.py'
    assert base_of(pacl_path) == ['./visece_r50_bert.py']
    visece, pacl = merged(MODEL_BASES / 'visece_r50_bert.py'), merged(pacl_path)
    # the file restates neither the BERT block nor the ResNet
    restated = stated_keywords(pacl_path) & (set(visece['model']['text_encoder']['config']) | set(SLOWONLY_STRUCTURE))
    assert restated == {'add_cross_attention'}
    # the text encoder is Visece's without cross-attention layers
    text_encoder = copy.deepcopy(visece['model']['text_encoder'])
    text_encoder['config']['add_cross_attention'] = False
    assert pacl['model']['text_encoder'] == text_encoder
    assert visece['model']['text_encoder']['config']['add_cross_attention'] is True
    # the video encoder is Visece's ResNet without the Linear
    assert pacl['model']['video_encoder'] == dict(visece['model']['video_encoder'], type='Visece_Video_PACL')
    for key in ('embed_dim', 'frozen_bert', 'text_encoder_init', 'text_lists', 'test_cfg'):
        assert pacl['model'][key] == visece['model'][key], key
    # PACL uses every parameter; Visece leaves the cross-attention unused in its text-only forward
    assert pacl['find_unused_parameters'] is False and visece['find_unused_parameters'] is True


def test_visece_frames_are_as_wide_as_the_text_encoder_cross_attends_to():
    # the Visece base leaves Visece_Video's output_channels at its default: it must be BERT's encoder_width
    visece = merged(MODEL_BASES / 'visece_r50_bert.py')['model']
    width = visece['video_encoder'].get(
        'output_channels', inspect.signature(Visece_Video).parameters['output_channels'].default)
    assert width == visece['text_encoder']['config']['encoder_width'] == 768


SCHEDULE_KEYS = ('optimizer_config', 'lr_config', 'total_epochs', 'log_config', 'checkpoint_config')


def assigned_names(path: Path) -> Set[str]:
    return {target.id for node in ast.parse(path.read_text()).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


@pytest.mark.parametrize('path', EXPERIMENTS, ids=[str(p.relative_to(CONFIG_ROOT)) for p in EXPERIMENTS])
def test_schedules_are_written_in_the_bases_only(path):
    # an experiment sets its learning rate (what a sweep changes); the schedule comes from _base_/schedules/
    restated = sorted(assigned_names(path) & set(SCHEDULE_KEYS))
    assert not restated, f'{path.relative_to(CONFIG_ROOT)} restates {restated}; inherit a _base_/schedules/ file'


def test_the_demo_text_recognizers_share_one_model_base():
    base = merged(MODEL_BASES / 'visece_minilm_demo.py')['model']
    # ITM replaces text_encoder (cross-attention layers), zero-shot adds to test_cfg; the rest holds in every demo
    shared = {k: v for k, v in base.items() if k not in ('type', 'video_encoder', 'text_encoder', 'test_cfg')}
    demos = [p for p in EXPERIMENTS if p.parent.name == 'demo' and 'posec3d' not in p.name]
    assert len(demos) >= 5
    for path in demos:
        model = merged(path)['model']
        assert {k: model[k] for k in shared} == shared, path.name
        for arg in ('res_out_channels', 'base_channels', 'stage_blocks'):
            assert model['video_encoder'][arg] == base['video_encoder'][arg], f'{path.name}: video_encoder.{arg}'
        assert not stated_keywords(path) & {'embed_dim', 'text_lists', 'text_encoder_init', 'base_channels'}, \
            f'{path.name} restates the demo model base'
