"""Checkpoints written before the recognizer template refactoring still fit.

``tests/data/recognizer_state_keys_v1.json`` lists, for a tiny model of every recognizer, each state_dict key with
its shape and dtype as the code before the refactoring wrote them; ``tests/data/recognizer3d_tiny_v1.pth`` is a
Recognizer3D checkpoint written by that code, with the test scores it gave on a seeded input. (A text recognizer's
checkpoint carries BERT's 30522-row word table, too large for the repository, so those are checked through the
listed facts: a checkpoint built from them must load strictly and round-trip its values.)
"""
import copy
import json
import os

import pytest
import torch
from tiny_text_models import clips

from pyskl.models import build_model
from pyskl.utils.checkpoint import load_checkpoint

DATA = os.path.join(os.path.dirname(__file__), '..', 'data')
NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
VIDEO_ARGS = dict(res_out_channels=32, in_channels=3, base_channels=4, num_stages=2, stage_blocks=(1, 1),
                  out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))
BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                          intermediate_size=32))
CROSS_BERT = dict(type='BertModel', config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                intermediate_size=64, vocab_size=30524, add_cross_attention=True,
                                                encoder_width=24))
TEXT = dict(text_encoder_init=None, text_lists=NAMES, embed_dim=8)
CONFIGS = {
    'visece': dict(type='RecognizerVisece', video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
                   text_encoder=BERT, **TEXT),
    'itm': dict(type='RecognizerViseceITM', video_encoder=dict(type='Visece_Video', output_channels=24, **VIDEO_ARGS),
                text_encoder=CROSS_BERT, **TEXT),
    'mo': dict(type='RecognizerViseceMo', video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
               text_encoder=BERT, queue_size=6, momentum=0.9, **TEXT),
    'mo_frozen': dict(type='RecognizerViseceMo', frozen_bert=True, queue_size=6, text_encoder=BERT,
                      video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS), **TEXT),
    'pacl': dict(type='RecognizerVisecePACL', video_encoder=dict(type='Visece_Video_PACL', **VIDEO_ARGS),
                 text_encoder=BERT, **TEXT),
    'r3d': dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', base_channels=4, stage_blocks=(1, 1, 1)),
                cls_head=dict(type='I3DHead', in_channels=64, num_classes=6, dropout=0)),
}


def recorded_facts():
    with open(os.path.join(DATA, 'recognizer_state_keys_v1.json')) as f:
        return json.load(f)


def build(name):
    torch.manual_seed(0)
    return build_model(copy.deepcopy(CONFIGS[name]))


def state_from_facts(facts, seed):
    """A checkpoint that fits the recorded keys, shapes and dtypes, with seeded values."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, (shape, dtype) in facts.items():
        dtype = getattr(torch, dtype)
        if key.endswith('running_var'):  # a variance is positive
            state[key] = (torch.rand(shape, generator=gen) + 0.5).to(dtype)
        elif dtype.is_floating_point:
            state[key] = (torch.randn(shape, generator=gen) * 0.1).to(dtype)
        else:
            state[key] = torch.randint(0, 3, shape, generator=gen).to(dtype)
    return state


def test_the_facts_cover_every_recognizer():
    assert set(recorded_facts()) == set(CONFIGS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_state_dict_keys_shapes_and_dtypes_are_the_recorded_ones(name):
    facts = recorded_facts()[name]
    state = build(name).state_dict()
    assert list(state) == list(facts), f'{name}: keys added {set(state) - set(facts)}, lost {set(facts) - set(state)}'
    for key, value in state.items():
        assert [list(value.shape), str(value.dtype).replace('torch.', '')] == facts[key], key


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_a_checkpoint_of_the_recorded_layout_loads_strictly(name, tmp_path):
    state = state_from_facts(recorded_facts()[name], seed=len(name))
    path = str(tmp_path / f'{name}.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    model = build(name)
    load_checkpoint(model, path, strict=True)
    loaded = model.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in state.items())


@pytest.mark.parametrize('name', ['visece', 'pacl'])
def test_a_recorded_layout_checkpoint_gives_the_same_scores_as_a_model_holding_it(name, tmp_path):
    """Loading does not only fit: the weights are used. Two fresh builds holding the same checkpoint agree, and
    differ from the seeded build."""
    state = state_from_facts(recorded_facts()[name], seed=5)
    first, second = build(name), build(name)
    fresh = build(name).eval()
    for model in (first, second):
        model.load_state_dict(state, strict=True)
        model.eval()
    imgs = clips(2, 2, seed=3)
    with torch.no_grad():
        scores = [torch.as_tensor(m(imgs, return_loss=False)) for m in (first, second, fresh)]
    assert torch.equal(scores[0], scores[1]) and not torch.allclose(scores[0], scores[2])


def test_a_recognizer3d_checkpoint_of_the_previous_code_gives_its_scores():
    model = build('r3d')
    checkpoint = load_checkpoint(model, os.path.join(DATA, 'recognizer3d_tiny_v1.pth'), strict=True)
    model.eval()
    imgs = torch.rand(2, 2, 17, 4, 16, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        scores = torch.as_tensor(model(imgs, return_loss=False))
    torch.testing.assert_close(scores, checkpoint['scores'], rtol=0, atol=1e-6)


def test_a_checkpoint_with_a_renamed_key_is_refused(tmp_path):
    state = state_from_facts(recorded_facts()['visece'], seed=1)
    state['vision_projection.weight'] = state.pop('vision_proj.weight')
    path = str(tmp_path / 'renamed.pth')
    torch.save(state, path)
    with pytest.raises(RuntimeError, match='vision_proj'):
        load_checkpoint(build('visece'), path, strict=True)


SEEDED_VARIANTS = {
    'visece': ('visece', {}),
    'itm': ('itm', {}),
    'itm_pt': ('itm', dict(proj_init='pytorch')),
    'mo_random': ('mo', dict(queue_init='random')),
    'pacl': ('pacl', {}),
}


@pytest.mark.parametrize('variant', sorted(SEEDED_VARIANTS))
def test_a_seed_draws_the_weights_it_drew_before(variant):
    """``tests/data/seeded_init_v1.pth`` holds weights of seed-0 builds of the code before the refactoring: the
    build-then-initialise-once order must draw the random numbers in the same order."""
    recorded = torch.load(os.path.join(DATA, 'seeded_init_v1.pth'), weights_only=True)
    name, options = SEEDED_VARIANTS[variant]
    cfg = copy.deepcopy(CONFIGS[name])
    cfg.update(options)
    torch.manual_seed(0)
    state = build_model(cfg).state_dict()
    keys = [key.split('/', 1)[1] for key in recorded if key.startswith(variant + '/')]
    assert keys
    for key in keys:
        assert torch.equal(state[key], recorded[f'{variant}/{key}']), f'{variant}: {key} differs'
