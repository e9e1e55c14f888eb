import pytest
import torch
import torch.nn as nn

from pyskl.models import build_backbone, build_model
from pyskl.models.cnns import ResNet3dSlowOnly, Visece_Video, Visece_Video_PACL

# two stages of one Bottleneck each: output 4 * 4 * 2 = 32 channels, T / 2, H / 4
TINY = dict(in_channels=3, base_channels=4, num_stages=2, stage_blocks=(1, 1), out_indices=(1, ),
            spatial_strides=(2, 2), temporal_strides=(1, 2), inflate=(0, 1))


def clips(n=2):
    return torch.rand(n, 3, 8, 16, 16)


@pytest.mark.parametrize('output_channels', [16, 768])
def test_visece_video_shape(output_channels):
    model = build_backbone(dict(type='Visece_Video', res_out_channels=32, output_channels=output_channels, **TINY))
    model.init_weights()
    out = model(clips())
    assert out.shape == (2, 4, output_channels)
    assert model.out_channels == output_channels


def test_visece_video_pacl_shape():
    model = build_backbone(dict(type='Visece_Video_PACL', res_out_channels=32, **TINY))
    model.init_weights()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert model(clips(3)).shape == (3, 4, 32)
    assert model.out_channels == 32


def test_default_posec3d_width():
    model = Visece_Video(in_channels=17, stage_blocks=(1, 1, 1))
    assert model.resnet.base_channels == 32 and model.linear.in_features == 512 and model.linear.out_features == 768


def test_output_is_spatial_mean_then_linear():
    model = Visece_Video(res_out_channels=32, output_channels=5, **TINY).eval()
    x = clips()
    with torch.no_grad():
        feat = model.resnet(x)  # [N, C, T, H, W]
        expected = model.linear(feat.mean(dim=(3, 4)).permute(0, 2, 1))
        out = model(x)
    assert feat.shape == (2, 32, 4, 4, 4)
    assert torch.allclose(out, expected, atol=1e-6)
    # frame t of the output depends only on the features of frame t
    with torch.no_grad():
        assert torch.allclose(out[:, 1], model.linear(feat[:, :, 1].mean(dim=(2, 3))), atol=1e-6)


def test_res_out_channels_mismatch():
    with pytest.raises(ValueError, match='res_out_channels=512 .* outputs 32 channels'):
        Visece_Video(res_out_channels=512, **TINY)
    with pytest.raises(ValueError, match='set res_out_channels=32'):
        Visece_Video_PACL(res_out_channels=64, **TINY)


def test_several_output_stages_rejected():
    args = dict(TINY, out_indices=(0, 1))
    with pytest.raises(ValueError, match='one output stage'):
        Visece_Video(res_out_channels=32, **args)


def test_init_weights_initialises_every_layer():
    model = Visece_Video(res_out_channels=32, output_channels=8, **TINY)
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(7.0)
    model.init_weights()
    conv = model.resnet.conv1.conv.weight
    fan_out = conv.shape[0] * conv[0, 0].numel()
    assert conv.abs().max() < 7.0 and conv.std().item() == pytest.approx((2 / fan_out)**0.5, rel=0.3)
    assert torch.all(model.resnet.layer2[0].conv1.conv.weight != 7.0)  # a 3x1x1 (inflated) 3D convolution
    assert torch.all(model.resnet.conv1.bn.weight == 1) and torch.all(model.resnet.conv1.bn.bias == 0)
    assert torch.all(model.linear.bias == 0) and model.linear.weight.abs().max() < 7.0


def _posec3d_checkpoint(path, with_meta):
    recognizer = build_model(dict(
        type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', **TINY),
        cls_head=dict(type='I3DHead', in_channels=32, num_classes=5)))
    with torch.no_grad():
        for param in recognizer.parameters():
            param.normal_()
        for name, buf in recognizer.named_buffers():
            if name.endswith('running_var'):
                buf.uniform_(0.5, 2.0)
    state = recognizer.state_dict()
    torch.save(dict(state_dict=state, meta=dict(epoch=3)) if with_meta else state, path)
    return recognizer


@pytest.mark.parametrize('with_meta', [True, False])
@pytest.mark.parametrize('cls', [Visece_Video, Visece_Video_PACL])
def test_pretrained_posec3d_checkpoint(tmp_path, with_meta, cls):
    path = str(tmp_path / 'posec3d.pth')
    recognizer = _posec3d_checkpoint(path, with_meta)
    model = cls(res_out_channels=32, pretrained=path, **TINY)
    missing, unexpected = model.load_pretrained(path)
    assert missing == [] and unexpected == []
    model = cls(res_out_channels=32, pretrained=path, **TINY)
    model.init_weights()
    backbone = recognizer.backbone.state_dict()
    loaded = model.resnet.state_dict()
    assert set(loaded) == set(backbone)
    for key, value in backbone.items():
        assert torch.equal(loaded[key], value), key
    reference = ResNet3dSlowOnly(**TINY).eval()
    reference.load_state_dict(backbone)
    with torch.no_grad():
        x = clips()
        assert torch.allclose(model.eval().frame_features(x), reference(x).mean(dim=(3, 4)).transpose(1, 2))


def test_pretrained_bare_backbone(tmp_path):
    backbone = ResNet3dSlowOnly(**TINY)
    with torch.no_grad():
        backbone.conv1.conv.weight.normal_()
    path = str(tmp_path / 'backbone.pth')
    torch.save(backbone.state_dict(), path)
    model = Visece_Video(res_out_channels=32, output_channels=8, pretrained=path, **TINY)
    assert model.load_pretrained(path) == ([], [])
    assert torch.equal(model.resnet.conv1.conv.weight, backbone.conv1.conv.weight)


def test_pretrained_missing_file():
    model = Visece_Video(res_out_channels=32, pretrained='no/such/posec3d.pth', **TINY)
    with pytest.raises(FileNotFoundError, match='no/such/posec3d.pth'):
        model.init_weights()


def test_wrong_input_rank():
    with pytest.raises(ValueError, match=r'\[N, C, T, H, W\]'):
        Visece_Video(res_out_channels=32, **TINY)(torch.rand(2, 1, 3, 8, 16, 16))
