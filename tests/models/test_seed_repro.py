"""The options that reproduce the original SkeletonCLIP++ code's behaviour (facts from its README and source notes):
- its video encoder keeps the initialisation the layers got when built (no zero-initialised residual branch);
- its Linear projections keep PyTorch's default initialisation;
- its PACL embedder is Linear-ReLU-Linear plus a Linear shortcut;
- its momentum queues start full of random unit vectors labelled -100, negatives from the first step;
- its BERT was never loaded from pretrained weights: a random BERT drawn from normal(0, 0.02).
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from tiny_text_models import clips

from pyskl.models import build_backbone, build_model
from pyskl.models.common import FeatureQueue
from pyskl.models.recognizers.visece import ResidualMLPEmbedder, build_embedder

NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
VIDEO_ARGS = dict(res_out_channels=32, in_channels=3, base_channels=4, num_stages=2, stage_blocks=(1, 1),
                  out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32, hidden_dropout_prob=0.0,
                                               attention_probs_dropout_prob=0.0))


def last_bn_weights(encoder):
    return [m.conv3.bn.weight for m in encoder.modules() if hasattr(m, 'conv3') and hasattr(m.conv3, 'bn')]


def test_pytorch_weight_init_keeps_the_layers_as_built():
    torch.manual_seed(0)
    encoder = build_backbone(dict(type='Visece_Video', output_channels=16, weight_init='pytorch', **VIDEO_ARGS))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    encoder.init_weights()
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    bns = last_bn_weights(encoder)
    assert bns and all(torch.all(w == 1) for w in bns)  # residual branches are not zeroed
    torch.manual_seed(0)
    ours = build_backbone(dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS))
    ours.init_weights()
    assert all(torch.all(w == 0) for w in last_bn_weights(ours))  # our default zero-initialises them
    # PyTorch's Linear init is uniform within 1/sqrt(fan_in); ours is normal(0, fan_in**-0.5) and spills over
    bound = 32**-0.5
    assert encoder.linear.weight.abs().max() <= bound and ours.linear.weight.abs().max() > bound


def test_unknown_weight_init_is_refused():
    with pytest.raises(ValueError, match="weight_init='xavier'"):
        build_backbone(dict(type='Visece_Video_PACL', weight_init='xavier', **VIDEO_ARGS))


def tiny_visece(**kwargs):
    cfg = dict(type='RecognizerVisece', video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
               text_encoder=TINY_BERT, text_encoder_init=None, text_lists=NAMES, embed_dim=8)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return build_model(cfg)


def test_pytorch_proj_init_keeps_default_linear_init():
    model = tiny_visece(proj_init='pytorch')
    text_bound = model.text_proj.in_features**-0.5
    for layer in (model.vision_proj, model.text_proj):
        bound = layer.in_features**-0.5
        assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
        assert layer.bias.abs().sum() > 0  # PyTorch draws biases; ours are zero
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.init_weights()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items() if 'proj' in k)
    ours = tiny_visece()
    assert torch.all(ours.text_proj.bias == 0) and ours.text_proj.weight.abs().max() > text_bound


def test_pytorch_proj_init_reaches_the_itm_head():
    video = dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS)
    bert = dict(TINY_BERT, config=dict(TINY_BERT['config'], add_cross_attention=True, encoder_width=16))
    model = tiny_visece(type='RecognizerViseceITM', video_encoder=video, text_encoder=bert, proj_init='pytorch')
    assert model.itm_head.bias.abs().sum() > 0
    assert torch.all(tiny_visece(type='RecognizerViseceITM', video_encoder=video, text_encoder=bert).itm_head.bias
                     == 0)


def test_relu_residual_embedder():
    torch.manual_seed(0)
    embedder = build_embedder('mlp_relu', 6, 4)
    assert isinstance(embedder, ResidualMLPEmbedder) and isinstance(embedder.act, nn.ReLU)
    x = torch.randn(2, 3, 6)
    expected = embedder.fc2(F.relu(embedder.fc1(x))) + embedder.shortcut(x)
    torch.testing.assert_close(embedder(x), expected)
    assert set(dict(embedder.named_parameters())) == set(dict(build_embedder('mlp', 6, 4).named_parameters()))


def test_random_queue_fillers_are_unit_negatives():
    queue = FeatureQueue(5, 3)
    queue.fill_random(torch.Generator().manual_seed(0))
    feats, labels = queue.filled()
    assert len(queue) == 5 and torch.all(labels == -100)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(5))
    queue.enqueue(torch.ones(2, 3), torch.tensor([4, 1]))
    assert queue.labels().tolist() == [4, 1, -100, -100, -100]
    queue.reset()
    assert len(queue) == 0


def tiny_mo(queue_init):
    cfg = dict(type='RecognizerViseceMo', video_encoder=dict(type='Visece_Video', output_channels=16, **VIDEO_ARGS),
               text_encoder=TINY_BERT, text_encoder_init=None, text_lists=NAMES, embed_dim=8, queue_size=6,
               momentum=0.9, alpha=0.4, queue_init=queue_init)
    torch.manual_seed(0)
    return build_model(cfg)


def test_random_queue_init_gives_negatives_from_the_first_step():
    filled, empty = tiny_mo('random'), tiny_mo('empty')
    assert len(filled.video_queue) == 6 and len(empty.video_queue) == 0
    assert torch.all(filled.text_queue.labels() == -100)
    imgs, labels = clips(4, seed=2), torch.tensor([0, 1, 2, 1])
    queued, queued_labels = filled.video_queue.filled()  # the extra columns of the first step's loss
    assert queued.shape == (6, 8) and queued_labels.tolist() == [-100] * 6
    loss_filled = filled(imgs, labels)['loss_cls']
    loss_empty = empty(imgs, labels)['loss_cls']
    assert not torch.allclose(loss_filled, loss_empty)  # the fillers enter the first step's softmax
    # the first step's batch took the oldest slots; the rest are still fillers
    assert filled.video_queue.labels().tolist() == [0, 1, 2, 1, -100, -100]
    filled.init_weights()
    assert torch.all(filled.video_queue.labels() == -100)


def test_unknown_queue_init_is_refused():
    with pytest.raises(ValueError, match="queue_init='zeros'"):
        tiny_mo('zeros')


def test_random_bert_base_is_drawn_from_normal_002():
    from pyskl.models.text import build_text_encoder
    torch.manual_seed(0)
    config = dict(hidden_size=64, num_hidden_layers=1, num_attention_heads=2, intermediate_size=128,
                  initializer_range=0.02, vocab_size=30524)
    model = build_text_encoder(config=config, text_encoder_init=None)
    weight = model.encoder.layer[0].attention.self.query.weight.detach()
    assert abs(float(weight.std()) - 0.02) < 0.002 and abs(float(weight.mean())) < 0.002


SEED_CONFIGS = {
    'visece/visece_r50_bert_ntu60_xsub_seed.py': {},
    'visece_itm/visece_itm_r50_bert_ntu60_xsub_seed.py': {},
    'visece_itm/visece_itm_r50_bert_frozen_ntu60_xsub_seed.py': dict(frozen_bert=True),
    'visece_mo/visece_mo_r50_bert_ntu60_xsub_seed.py': dict(queue_init='random'),
    'visece_pacl/visece_pacl_r50_bert_ntu60_xsub_seed.py': dict(weight_fn='sigmoid', weight_on='raw',
                                                                embedder='mlp_relu', train_mode='all_class'),
    'visece_pacl/visece_pacl_r50_bert_ntu60_xsub_seed_best.py': dict(weight_fn='softmax', weight_on='raw',
                                                                     embedder='linear', train_mode='all_class'),
}


@pytest.mark.parametrize('path', sorted(SEED_CONFIGS))
def test_seed_configs_select_the_original_behaviour(path):
    from pathlib import Path

    from mmcv import Config
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / path))
    model = cfg.model
    assert model.text_encoder_init is None  # random BERT ...
    bert = model.text_encoder.config
    assert (bert.hidden_size, bert.num_hidden_layers, bert.initializer_range) == (768, 12, 0.02)  # ... BERT-base
    assert model.proj_init == 'pytorch' and model.video_encoder.weight_init == 'pytorch'
    for key, value in SEED_CONFIGS[path].items():
        assert model[key] == value, key


def test_visece_checkpoint_into_a_random_queue_model_starts_with_fillers():
    visece = tiny_visece()
    model = tiny_mo('random')
    model.video_queue.enqueue(torch.ones(2, 8), torch.tensor([1, 2]))
    model.load_state_dict(visece.state_dict(), strict=True)
    assert torch.all(model.video_queue.labels() == -100) and torch.all(model.text_queue.labels() == -100)
    torch.testing.assert_close(model.video_queue.features().norm(dim=1), torch.ones(6))
