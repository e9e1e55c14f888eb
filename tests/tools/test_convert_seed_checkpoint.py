"""tools/convert_seed_checkpoint.py: original SkeletonCLIP++ checkpoints become ours and score identically.

The original layout is written here from the documented facts (no import of the original code):
- ``text_encoder.*`` / ``text_proj.*`` at the top level, BLIP's BERT without ``token_type_embeddings`` but with
  the ``embeddings.position_ids`` buffer;
- PACL's embedder as ``video_embed_linear.0`` / ``video_embed_linear.2`` (the MLP) and ``video_embed_res`` (the
  shortcut);
- momentum copies as ``<name>_m.X``; queues ``video_queue`` / ``text_queue`` [D, Q], ``idx_queue`` [1, Q] with -100
  in never-written slots, ``ptr_queue`` [1].
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pyskl.models import build_model
from pyskl.utils.checkpoint import CheckpointError, load_checkpoint, load_checkpoint_file
from pyskl.utils.seed_checkpoint import (
    convert_seed_state_dict,
    detect_seed_recognizer,
    is_seed_state_dict,
    seed_checkpoint_hint,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
WIDTH = 16
VIDEO_ARGS = dict(res_out_channels=32, in_channels=3, base_channels=4, num_stages=2, stage_blocks=(1, 1),
                  out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))
BERT = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, vocab_size=30524,
            max_position_embeddings=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
MODELS = {
    'visece': dict(type='RecognizerVisece', video_encoder=dict(type='Visece_Video', output_channels=WIDTH,
                                                               **VIDEO_ARGS)),
    'itm': dict(type='RecognizerViseceITM', video_encoder=dict(type='Visece_Video', output_channels=WIDTH,
                                                               **VIDEO_ARGS),
                text_config=dict(add_cross_attention=True, encoder_width=WIDTH)),
    'mo': dict(type='RecognizerViseceMo', video_encoder=dict(type='Visece_Video', output_channels=WIDTH,
                                                             **VIDEO_ARGS),
               queue_size=10, momentum=0.9, queue_init='random'),
    'pacl': dict(type='RecognizerVisecePACL', video_encoder=dict(type='Visece_Video_PACL', **VIDEO_ARGS)),
}


def tiny_model(kind, seed=0):
    cfg = dict(MODELS[kind])
    text_config = dict(BERT, **cfg.pop('text_config', {}))
    cfg.update(text_encoder=dict(type='BertModel', config=text_config), text_encoder_init=None, text_lists=NAMES,
               embed_dim=8)
    torch.manual_seed(seed)
    return build_model(cfg)


def clips(seed, batch=4):
    return torch.rand(batch, 1, 3, 8, 16, 16, generator=torch.Generator().manual_seed(seed))


def original_layout(state, kind):
    """Our state dict written the way the original code stores the same model."""
    out = {}
    for key, value in state.items():
        if key.endswith('embeddings.token_type_embeddings.weight'):
            continue  # BLIP's BERT has no token-type table
        if key == 'num_updates' or key.startswith(('video_queue.', 'text_queue.')):
            continue
        new = key.replace('text_branch.text_encoder.', 'text_encoder.').replace('text_branch.text_proj.', 'text_proj.')
        if kind == 'pacl':
            new = new.replace('vision_proj.fc1.', 'video_embed_linear.0.').replace(
                'vision_proj.fc2.', 'video_embed_linear.2.').replace('vision_proj.shortcut.', 'video_embed_res.')
        new = new.replace('_m.module.', '_m.')
        out[new] = value.clone()
    for prefix in [k[:-len('embeddings.word_embeddings.weight')] for k in out
                   if k.endswith('embeddings.word_embeddings.weight')]:
        out[prefix + 'embeddings.position_ids'] = torch.arange(BERT['max_position_embeddings'])[None]
    if kind == 'mo':
        out['video_queue'] = state['video_queue.feats'].t().clone()  # [D, Q]
        out['text_queue'] = state['text_queue.feats'].t().clone()
        out['idx_queue'] = state['video_queue.feat_labels'][None].clone()  # [1, Q]
        out['ptr_queue'] = state['video_queue.ptr'].reshape(1).clone()
    return out


def as_original_model(model):
    """The original BERT adds no token-type vector: ours equals it with a zero token-type table."""
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if name.endswith('token_type_embeddings.weight'):
                tensor.zero_()
    return model


def run_converter(argv):
    tools = str(REPO_ROOT / 'tools')
    if tools not in sys.path:  # the tool imports its neighbour _bootstrap, as when it is run as a script
        sys.path.insert(0, tools)
    spec = importlib.util.spec_from_file_location('convert_seed_checkpoint',
                                                  REPO_ROOT / 'tools' / 'convert_seed_checkpoint.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in argv])


def trained_mo_model():
    """A momentum model after two steps: queues partly real labels, partly the -100 random fillers."""
    model = as_original_model(tiny_model('mo'))
    model.train()
    for step in range(2):
        model(clips(10 + step), torch.tensor([0, 1, 2, 1]))
    labels = model.video_queue.feat_labels
    assert (labels == -100).any() and (labels >= 0).any()
    return model


@pytest.mark.parametrize('kind', sorted(MODELS))
def test_converted_original_checkpoint_gives_identical_test_scores(kind, tmp_path):
    model = trained_mo_model() if kind == 'mo' else as_original_model(tiny_model(kind))
    model.eval()
    original = original_layout(model.state_dict(), kind)
    assert not any('token_type' in key for key in original)
    assert detect_seed_recognizer(original) == kind
    torch.save(dict(state_dict=original, meta=dict(epoch=3)), tmp_path / 'seed.pth')

    assert run_converter([tmp_path / 'seed.pth', tmp_path / 'ours.pth']) == 0
    converted = load_checkpoint_file(str(tmp_path / 'ours.pth'))
    assert converted['meta']['epoch'] == 3 and converted['meta']['converted_from_seed']['recognizer'] == kind
    fresh = tiny_model(kind, seed=1)
    fresh.load_state_dict(converted['state_dict'], strict=True)
    fresh.eval()
    imgs = clips(5)
    with torch.no_grad():
        expected = model(imgs, return_loss=False)
        got = fresh(imgs, return_loss=False)
    assert expected.shape == (4, len(NAMES))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert not np.allclose(tiny_model(kind, seed=1).eval()(imgs, return_loss=False), expected)


def test_converted_momentum_queues_train_like_the_original(tmp_path):
    model = trained_mo_model()
    original = original_layout(model.state_dict(), 'mo')
    state, report = convert_seed_state_dict(original)
    assert report['recognizer'] == 'mo'
    fresh = tiny_model('mo', seed=1)
    fresh.load_state_dict(state, strict=True)
    for name in ('video_queue', 'text_queue'):
        ours, theirs = getattr(fresh, name), getattr(model, name)
        torch.testing.assert_close(ours.feats, theirs.feats, rtol=0, atol=0)
        assert torch.equal(ours.feat_labels, theirs.feat_labels) and int(ours.ptr) == int(theirs.ptr)
    assert int(fresh.num_updates) == 1  # the momentum copies exist: no re-copy at the next step
    # the next step uses the queues (fillers as negatives) and the momentum copies: same loss
    fresh.train()
    imgs, labels = clips(20), torch.tensor([3, 0, 0, 2])
    loss_original = model(imgs, labels)['loss_cls']
    loss_converted = fresh(imgs, labels)['loss_cls']
    torch.testing.assert_close(loss_converted, loss_original, rtol=1e-6, atol=1e-7)


def test_hint_names_the_converter_only_for_original_checkpoints():
    model = tiny_model('visece')
    ours = model.state_dict()
    original = original_layout(ours, 'visece')
    hint = seed_checkpoint_hint(original)
    assert 'original SkeletonCLIP++ code' in hint and 'tools/convert_seed_checkpoint.py IN OUT' in hint
    assert seed_checkpoint_hint(ours) is None and not is_seed_state_dict(ours)
    assert seed_checkpoint_hint({f'module.{k}': v for k, v in original.items()}) is not None


def test_refusals(tmp_path, capsys):
    model = tiny_model('visece')
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ours.pth')
    with pytest.raises(SystemExit, match="already"):
        run_converter([tmp_path / 'ours.pth', tmp_path / 'out.pth'])
    original = original_layout(model.state_dict(), 'visece')
    torch.save(dict(state_dict=original), tmp_path / 'seed.pth')
    with pytest.raises(SystemExit, match='--recognizer mo does not fit'):
        run_converter([tmp_path / 'seed.pth', tmp_path / 'out.pth', '--recognizer', 'mo'])
    with pytest.raises(SystemExit, match='itm_head'):
        run_converter([tmp_path / 'seed.pth', tmp_path / 'out.pth', '--recognizer', 'itm'])
    assert not (tmp_path / 'out.pth').exists()
    (tmp_path / 'out.pth').write_bytes(b'keep me')
    with pytest.raises(SystemExit, match='exists'):
        run_converter([tmp_path / 'seed.pth', tmp_path / 'out.pth'])
    assert (tmp_path / 'out.pth').read_bytes() == b'keep me'


def test_momentum_checkpoint_without_queues_is_refused():
    original = original_layout(trained_mo_model().state_dict(), 'mo')
    del original['idx_queue']
    with pytest.raises(KeyError, match='idx_queue'):
        convert_seed_state_dict(original)


def test_video_encoder_without_inner_resnet_level_gets_it():
    state = {'text_encoder.embeddings.word_embeddings.weight': torch.zeros(5, 4),
             'video_encoder.conv1.conv.weight': torch.ones(2), 'video_encoder.layer1.0.conv1.bn.bias': torch.ones(2),
             'video_encoder.linear.weight': torch.ones(2), 'video_encoder.resnet.layer2.0.x': torch.ones(1)}
    converted, _ = convert_seed_state_dict(state, type_vocab_size=0)
    assert set(converted) == {'text_branch.text_encoder.embeddings.word_embeddings.weight',
                              'video_encoder.resnet.conv1.conv.weight', 'video_encoder.resnet.layer1.0.conv1.bn.bias',
                              'video_encoder.linear.weight', 'video_encoder.resnet.layer2.0.x'}


def test_strict_loading_of_an_unconverted_original_checkpoint_names_the_converter(tmp_path):
    model = tiny_model('visece')
    path = tmp_path / 'original.pth'
    torch.save(dict(state_dict=original_layout(model.state_dict(), 'visece')), path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tiny_model('visece'), str(path), strict=True)
    message = str(info.value)
    assert str(path) in message and 'tools/convert_seed_checkpoint.py IN OUT' in message
    assert 'text_encoder.' in message  # the unexpected keys are still listed
