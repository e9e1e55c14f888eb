"""get_flops (against hand counts), publish_model and print_config."""
import hashlib

import pytest
import torch
import torch.nn as nn
from analysis_helpers import load_tool
from e2e_utils import make_tiny_dataset, write_tiny_config

from pyskl.utils.checkpoint import load_checkpoint_file

TINY_POSEC3D = "model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))"


def test_flop_count_of_a_known_model():
    tool = load_tool('analysis/get_flops.py')
    model = nn.Sequential(nn.Conv3d(17, 8, kernel_size=3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
                          nn.Flatten(), nn.Linear(8, 5))
    x = torch.zeros(2, 17, 4, 6, 6)
    total, modules = tool.count_flops(lambda: model(x))
    conv = 2 * (17 * 27) * 8 * (2 * 4 * 6 * 6)  # 2 x (inputs per output) x outputs
    linear = 2 * 8 * 5 * 2
    assert total == conv + linear == 2_115_232
    assert modules['Sequential.0'] == conv and modules['Sequential.4'] == linear


def hand_count(model, imgs):
    """2 x multiply-adds of every Conv3d and Linear, from the output shapes seen by forward hooks."""
    flops = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv3d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1] * \
                module.kernel_size[2]
            flops.append(2 * per_output * output.numel())
        else:
            flops.append(2 * module.in_features * output.numel())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv3d, nn.Linear))]
    with torch.no_grad():
        model.forward_dummy(imgs)
    for h in handles:
        h.remove()
    return sum(flops)


def test_get_flops_of_a_config_at_its_pipeline_shape(tmp_path):
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl', 1, 1)
    config = write_tiny_config(tmp_path / 'posec3d.py', ann, extra=TINY_POSEC3D)
    tool = load_tool('analysis/get_flops.py')
    result = tool.main([str(config), '--out-dir', str(tmp_path / 'out')])
    assert result['input_shape'] == [17, 16, 24, 24] and result['num_clips'] == 2  # 16 frames, 24x24, 2 clips
    from pyskl.apis import init_recognizer
    model = init_recognizer(str(config))
    assert result['flops_per_clip'] == hand_count(model, torch.zeros(1, 1, 17, 16, 24, 24)) > 0
    assert result['flops_per_sample'] == 2 * result['flops_per_clip']
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert (tmp_path / 'out' / 'flops.png').read_bytes()[:4] == b'\x89PNG'


def test_publish_model_drops_the_optimizer_and_names_the_hash(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    src = tmp_path / 'epoch_3.pth'
    private_path = tmp_path / 'private' / 'data.pkl'  # a local path the published file must not carry
    torch.save(dict(state_dict=model.state_dict(), optimizer=optimizer.state_dict(),
                    meta=dict(epoch=3, config=f'ann_file = "{private_path}"')), str(src))
    tool = load_tool('analysis/publish_model.py')
    final = tool.main([str(src), str(tmp_path / 'linear.pth')])
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert final == str(tmp_path / f'linear-{digest[:8]}.pth')
    published = load_checkpoint_file(final)
    assert set(published) == {'state_dict', 'meta'} and published['meta'] == dict(epoch=3)
    for key, value in model.state_dict().items():
        assert torch.equal(published['state_dict'][key], value)
    before = open(final, 'rb').read()
    with pytest.raises(FileExistsError, match='not replaced'):
        tool.main([str(src), str(tmp_path / 'linear.pth')])
    assert open(final, 'rb').read() == before
    with pytest.raises(ValueError, match='.pth'):
        tool.main([str(src), str(tmp_path / 'linear.ckpt')])


def test_print_config_merges_bases_and_options(capsys):
    tool = load_tool('analysis/print_config.py')
    text = tool.main(['configs/demo/posec3d_synthetic.py', '--cfg-options', 'optimizer.lr=0.123',
                      'data.videos_per_gpu=7'])
    printed = capsys.readouterr().out
    assert text in printed
    assert "lr=0.123" in text and 'videos_per_gpu=7' in text
    assert "type='ResNet3dSlowOnly'" in text  # from the config itself
    assert 'log_level' in text and 'tensorboard = False' in text  # from the default runtime base
