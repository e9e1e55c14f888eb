import logging

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from pyskl.models import build_backbone
from pyskl.models.cnns import BasicBlock3d, Bottleneck3d, ResNet3d, ResNet3dSlowOnly


def tiny(**kwargs):
    cfg = dict(type='ResNet3dSlowOnly', base_channels=4, stage_blocks=(1, 1, 1))
    cfg.update(kwargs)
    return build_backbone(cfg)


def test_default_shapes_and_kernels():
    model = tiny().eval()
    with torch.no_grad():
        out = model(torch.rand(2, 17, 8, 16, 16))
    assert out.shape == (2, 4 * 4 * 4, 4, 2, 2)
    assert model.feat_dim == 64
    assert model.conv1.conv.weight.shape == (4, 17, 1, 7, 7)
    # inflate=(0, 1, 1): stage 1 is spatial only, later stages have 3x1x1 temporal kernels
    assert model.layer1[0].conv1.conv.kernel_size == (1, 1, 1)
    assert model.layer2[0].conv1.conv.kernel_size == (3, 1, 1)
    assert model.layer3[0].conv2.conv.kernel_size == (1, 3, 3)
    assert model.layer3[0].conv2.conv.stride == (2, 2, 2)


def test_several_out_indices():
    model = tiny(out_indices=(0, 1, 2)).eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 17, 4, 16, 16))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 4, 8, 8), (1, 32, 4, 4, 4), (1, 64, 2, 2, 2)]


@pytest.mark.parametrize('kwargs', [dict(conv1_stride=(1, 2)), dict(conv1_stride_s=2), dict(pool1_stride=(1, 2))])
def test_stem_strides(kwargs):
    model = tiny(**kwargs).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 17, 4, 16, 16))
    assert out.shape == (1, 64, 2, 1, 1)


def test_with_pool2_halves_time():
    model = tiny(with_pool2=True).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 17, 8, 16, 16))
    assert out.shape == (1, 64, 2, 2, 2)


def test_caffe_style_moves_stride_to_first_conv():
    model = tiny(style='caffe')
    assert model.layer1[0].conv1.conv.stride == (1, 2, 2)
    assert model.layer1[0].conv2.conv.stride == (1, 1, 1)


def test_basic_block_depth():
    model = ResNet3dSlowOnly(depth=18, base_channels=4, stage_blocks=(1, 1, 1)).eval()
    assert isinstance(model.layer1[0], BasicBlock3d)
    assert model.layer2[0].conv1.conv.kernel_size == (3, 3, 3)
    with torch.no_grad():
        out = model(torch.rand(1, 17, 4, 16, 16))
    assert out.shape == (1, 16, 2, 2, 2)


def test_resnet3d_is_registered_with_pyskl_defaults():
    model = build_backbone(dict(type='ResNet3d', depth=50, base_channels=4, in_channels=3))
    assert model.stage_blocks == (3, 4, 6, 3)
    assert model.conv1.conv.kernel_size == (3, 7, 7)
    assert isinstance(model.layer4[0], Bottleneck3d)


@pytest.mark.parametrize('kwargs, error', [
    (dict(stage_blocks=(1, 1)), ValueError),
    (dict(spatial_strides=(2, 2)), ValueError),
    (dict(out_indices=(3, )), ValueError),
    (dict(lateral=True), NotImplementedError),
    (dict(depth=42), KeyError),
    (dict(inflate_style='2x2x2'), ValueError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        tiny(**kwargs)


def test_frozen_stages():
    model = tiny(frozen_stages=1)
    model.train()
    for module in (model.conv1, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2.training and model.layer2[0].conv1.bn.training


def test_norm_eval():
    model = tiny(norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not bn.training for bn in bns)
    assert model.layer1[0].conv1.conv.training
    model = tiny(norm_eval=False)
    model.train()
    assert all(m.training for m in model.modules() if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('zero_init_residual', [True, False])
def test_init_weights(zero_init_residual):
    model = tiny(zero_init_residual=zero_init_residual)
    convs = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv3d)}
    before = {n: m.weight.detach().clone() for n, m in convs.items()}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            torch.nn.init.uniform_(m.weight, 2, 3)
            torch.nn.init.uniform_(m.bias, 2, 3)
    model.init_weights()
    for name, conv in convs.items():
        assert not torch.equal(conv.weight, before[name]), name
    for name, m in model.named_modules():
        if isinstance(m, _BatchNorm):
            last = name.endswith('conv3.bn')
            expected = 0.0 if (last and zero_init_residual) else 1.0
            assert torch.all(m.weight == expected), name
            assert torch.all(m.bias == 0), name


def test_pretrained_from_recognizer_checkpoint(tmp_path, caplog):
    source = tiny()
    for p in source.parameters():
        torch.nn.init.uniform_(p)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.zeros(3, 64)
    state['backbone.conv1.conv.weight'] = torch.zeros(1, 2, 3)  # wrong shape: reported and skipped
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=3)), path)

    model = tiny(pretrained=str(path))
    with caplog.at_level(logging.INFO, logger='pyskl'):
        model.init_weights()
    assert 'conv1.conv.weight' in caplog.text
    assert torch.equal(model.layer2[0].conv1.conv.weight, source.layer2[0].conv1.conv.weight)
    assert not torch.equal(model.conv1.conv.weight, source.conv1.conv.weight)


def test_pretrained_missing_file(tmp_path):
    model = tiny(pretrained=str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.init_weights()


def test_slowonly_is_a_resnet3d():
    assert issubclass(ResNet3dSlowOnly, ResNet3d)


class OpaqueMeta:
    """A non-tensor object that the weights-only loader refuses."""


def test_pretrained_with_opaque_metadata_needs_the_explicit_opt_in(tmp_path):
    from pyskl.utils.checkpoint import CheckpointError, unsafe_load
    source = tiny()
    for p in source.parameters():
        torch.nn.init.uniform_(p)
    path = tmp_path / 'opaque.pth'
    torch.save(dict(state_dict=source.state_dict(), meta=OpaqueMeta()), path)
    model = tiny(pretrained=str(path))
    with pytest.raises(CheckpointError, match='--unsafe-load') as err:
        model.init_weights()
    assert str(path) in str(err.value)
    with unsafe_load():
        model.init_weights()
    assert torch.equal(model.conv1.conv.weight, source.conv1.conv.weight)
