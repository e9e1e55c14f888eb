"""The `performance` switches: resolution and errors, equal outputs to float32, checkpoints that load into a plain
model, and the training path through `train_model`."""
import copy

import numpy as np
import pytest
import torch
from mmcv.runner import build_optimizer, save_checkpoint

from pyskl.core import fast_paths
from pyskl.core.fast_paths import PERFORMANCE_KEYS, apply_fast_paths, resolve_performance, video_encoders
from pyskl.models import build_model
from pyskl.utils.checkpoint import load_checkpoint

CL3D = torch.channels_last_3d
DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA'))]
NAMES = ['drink water', 'wave the right hand', 'kick with the left leg', 'squat down']
VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
             num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2), temporal_strides=(1, 2),
             inflate=(0, 1))
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32, hidden_dropout_prob=0.0,
                                               attention_probs_dropout_prob=0.0))
MODELS = {
    'Recognizer3D': dict(type='Recognizer3D',
                         backbone=dict(type='ResNet3dSlowOnly', in_channels=3, base_channels=4, stage_blocks=(1, 1, 1)),
                         cls_head=dict(type='I3DHead', in_channels=64, num_classes=4, dropout=0),
                         test_cfg=dict(average_clips='prob')),
    'RecognizerVisece': dict(type='RecognizerVisece', video_encoder=VIDEO, text_encoder=TINY_BERT,
                             text_encoder_init=None, text_lists=NAMES, embed_dim=8),
    'RecognizerViseceMo': dict(type='RecognizerViseceMo', video_encoder=VIDEO, text_encoder=TINY_BERT,
                               text_encoder_init=None, text_lists=NAMES, embed_dim=8, queue_size=6, momentum=0.9),
}
OFF = dict(cudnn_benchmark=False, tf32=False, channels_last=False, amp=False, compile=False, fused_optimizer=False)


def tiny(name='Recognizer3D'):
    torch.manual_seed(0)
    return build_model(copy.deepcopy(MODELS[name]))


def batch(device='cpu', n=4):
    gen = torch.Generator().manual_seed(1)
    return dict(imgs=torch.rand(n, 1, 3, 8, 16, 16, generator=gen).to(device), label=torch.tensor([0, 1, 2, 3][:n],
                                                                                                   device=device))


def loss_and_grads(model, data, amp_dtype=None):
    model.zero_grad()
    torch.manual_seed(2)
    with torch.autocast(data['imgs'].device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
        out = model.train_step(data, None)
    out['loss'].backward()
    grads = {name: p.grad.detach().float().clone() for name, p in model.named_parameters() if p.grad is not None}
    return float(out['loss'].detach()), grads


def test_unknown_switch_lists_the_known_ones():
    with pytest.raises(KeyError, match='channel_last') as info:
        resolve_performance(dict(channel_last=True))
    for key in PERFORMANCE_KEYS:
        assert key in str(info.value)


@pytest.mark.parametrize('performance, error', [
    (dict(channels_last='yes'), TypeError),
    (dict(cudnn_benchmark=1), TypeError),
    (dict(tf32='fast'), ValueError),
    (dict(amp='fp8'), ValueError),
    (dict(amp='fp16'), ValueError),  # float16 autocast on the CPU
    (dict(compile='max-autotune'), TypeError),
])
def test_bad_values(performance, error):
    with pytest.raises(error, match='performance'):
        resolve_performance(performance, device_type='cpu')


def test_device_defaults(monkeypatch):
    monkeypatch.setattr(fast_paths, 'cpu_has_fast_bf16', lambda: True)
    cpu = resolve_performance(None, device_type='cpu')
    assert (cpu.channels_last, cpu.amp, cpu.compile, cpu.cudnn_benchmark, cpu.tf32) == (True, 'bf16', False, False,
                                                                                         False)
    assert cpu.amp_dtype == torch.bfloat16 and set(cpu.source.values()) == {'default'}
    monkeypatch.setattr(fast_paths, 'cpu_has_fast_bf16', lambda: False)
    assert resolve_performance(dict(amp=None), device_type='cpu').amp is None  # emulated bf16 is slower
    cuda = resolve_performance({}, device_type='cuda')
    assert (cuda.cudnn_benchmark, cuda.tf32, cuda.fused_optimizer, cuda.amp) == (True, True, True, None)
    assert not resolve_performance({}, device_type='cuda', deterministic=True).cudnn_benchmark
    explicit = resolve_performance(dict(channels_last=False, amp='bf16'), device_type='cpu')
    assert (explicit.channels_last, explicit.amp) == (False, 'bf16')
    assert explicit.source['channels_last'] == explicit.source['amp'] == 'config'


def test_legacy_fp16_key():
    cuda = resolve_performance(None, dict(loss_scale=512.), device_type='cuda')
    assert (cuda.amp, cuda.loss_scale, cuda.source['amp']) == ('fp16', 512., 'fp16')
    assert resolve_performance(None, dict(loss_scale='dynamic'), device_type='cuda').loss_scale == 2.**16
    assert resolve_performance(dict(amp='fp16'), dict(), device_type='cuda').amp == 'fp16'
    assert resolve_performance(dict(amp=False), None, device_type='cpu').amp is None
    cpu = resolve_performance(dict(amp=None), dict(loss_scale='dynamic'), device_type='cpu')
    assert cpu.amp_dtype == torch.bfloat16
    with pytest.raises(ValueError, match='fp16=.*performance.amp=False'):
        resolve_performance(dict(amp=False), dict(loss_scale=512.), device_type='cuda')
    with pytest.raises(ValueError, match='loss_scale'):
        resolve_performance(None, dict(loss_scale='static'), device_type='cuda')


def test_fused_optimizer_config():
    fast = resolve_performance(dict(fused_optimizer=True), device_type='cpu')
    assert fast.optimizer_config(dict(type='SGD', lr=0.1))['fused'] is True
    assert fast.optimizer_config(dict(type='SGD', lr=0.1, foreach=False)) == dict(type='SGD', lr=0.1, foreach=False)
    assert 'fused' not in fast.optimizer_config(dict(type='NotATorchOptimizer'))
    assert resolve_performance(dict(fused_optimizer=False)).optimizer_config(dict(type='AdamW')) == dict(type='AdamW')


@pytest.mark.parametrize('optim', [dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
                                   dict(type='AdamW', lr=1e-2, weight_decay=0.01)])
def test_fused_optimizer_steps_like_the_plain_one(optim):
    plain, fused = tiny(), tiny()
    fast = apply_fast_paths(fused, dict(performance=dict(OFF, fused_optimizer=True, channels_last=True)), 'cpu')
    opt_plain, opt_fused = build_optimizer(plain, optim), build_optimizer(fused, fast.optimizer_config(optim))
    assert opt_fused.defaults['fused'] is True
    data = batch()
    for _ in range(3):
        for model, opt in ((plain, opt_plain), (fused, opt_fused)):
            opt.zero_grad()
            model.train_step(data, None)['loss'].backward()
            opt.step()
    for (name, a), b in zip(plain.named_parameters(), fused.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def test_video_encoders_found():
    assert list(video_encoders(tiny('Recognizer3D'))) == ['backbone']
    assert list(video_encoders(tiny('RecognizerViseceMo'))) == ['video_encoder', 'video_encoder_m']


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('name', sorted(MODELS))
def test_channels_last_equals_fp32(name, device):
    plain = tiny(name).to(device).train()
    fast_model = copy.deepcopy(plain)
    fast = apply_fast_paths(fast_model, dict(performance=dict(OFF, channels_last=True)), device)
    conv = fast_model.backbone.conv1.conv if name == 'Recognizer3D' else fast_model.video_encoder.resnet.conv1.conv
    assert conv.weight.is_contiguous(memory_format=CL3D) and not conv.weight.is_contiguous()
    seen = []
    conv.register_forward_pre_hook(lambda module, args: seen.append(args[0].is_contiguous(memory_format=CL3D)))
    data = batch(device)
    loss, grads = loss_and_grads(plain, data)
    fast_loss, fast_grads = loss_and_grads(fast_model, data)
    assert seen == [True], 'the encoder input was not converted to channels_last_3d'
    assert fast_loss == pytest.approx(loss, rel=1e-5)
    assert grads.keys() == fast_grads.keys()
    for key in grads:
        torch.testing.assert_close(fast_grads[key], grads[key], rtol=1e-3, atol=1e-5, msg=key)
    plain.eval()
    fast_model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(fast_model(imgs=data['imgs'], return_loss=False),
                                   plain(imgs=data['imgs'], return_loss=False), rtol=1e-4, atol=1e-6)
    fast.remove_hooks()
    seen.clear()
    loss_and_grads(fast_model, data)
    assert seen == [False]


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('name', ['Recognizer3D', 'RecognizerVisece'])
def test_mixed_precision_close_to_fp32(name, device):
    amp = 'bf16' if device == 'cpu' or torch.cuda.is_bf16_supported() else 'fp16'
    plain = tiny(name).to(device).train()
    fast_model = copy.deepcopy(plain)
    fast = apply_fast_paths(fast_model, dict(performance=dict(OFF, channels_last=True, amp=amp)), device)
    assert fast.amp_dtype in (torch.bfloat16, torch.float16)
    data = batch(device)
    loss, grads = loss_and_grads(plain, data)
    fast_loss, fast_grads = loss_and_grads(fast_model, data, fast.amp_dtype)
    assert fast_loss == pytest.approx(loss, rel=3e-2)
    # bfloat16 keeps 8 bits of mantissa: compare the gradient as a direction, over all parameters and per tensor
    a = torch.cat([grads[key].flatten() for key in grads])
    b = torch.cat([fast_grads[key].flatten() for key in grads])
    assert torch.nn.functional.cosine_similarity(a, b, dim=0) > 0.99
    assert float(b.norm()) == pytest.approx(float(a.norm()), rel=0.05)
    for key in grads:
        if grads[key].norm() > 1e-6:
            assert torch.nn.functional.cosine_similarity(grads[key].flatten(), fast_grads[key].flatten(), 0) > 0.9, key


def load_into_plain(name, path):
    """A freshly built plain model with the checkpoint's weights; every key it has must be in the checkpoint."""
    plain = tiny(name)
    state = torch.load(path, weights_only=True)['state_dict']
    missing, _ = plain.load_state_dict(state, strict=False)  # the class-sentence token buffers are filled lazily
    assert not missing
    load_checkpoint(plain, path)
    return plain, state


def test_channels_last_checkpoint_loads_into_a_plain_model(tmp_path):
    fast_model = tiny('RecognizerViseceMo')
    apply_fast_paths(fast_model, dict(performance=dict(OFF, channels_last=True)), 'cpu')
    with torch.no_grad():
        for p in fast_model.parameters():
            p.add_(torch.randn_like(p) * 0.01)  # differ from the plain model's init
    assert fast_model.video_encoder_m.module.resnet.conv1.conv.weight.is_contiguous(memory_format=CL3D)
    path = str(tmp_path / 'cl.pth')
    save_checkpoint(fast_model, path)
    plain, state = load_into_plain('RecognizerViseceMo', path)
    for name, value in plain.state_dict().items():
        assert torch.equal(value, state[name]) and torch.equal(value, fast_model.state_dict()[name]), name
    assert plain.video_encoder.resnet.conv1.conv.weight.is_contiguous()
    fast_model.eval()
    plain.eval()
    imgs = batch()['imgs']
    with torch.no_grad():
        np.testing.assert_allclose(fast_model(imgs=imgs, return_loss=False), plain(imgs=imgs, return_loss=False),
                                   rtol=1e-4, atol=1e-6)
    # and the other way: a plain checkpoint into a channels-last model keeps the fast layout
    again = tiny('RecognizerViseceMo')
    apply_fast_paths(again, dict(performance=dict(OFF, channels_last=True)), 'cpu')
    load_checkpoint(again, path)
    assert again.video_encoder.resnet.conv1.conv.weight.is_contiguous(memory_format=CL3D)
    assert torch.equal(again.video_encoder.resnet.conv1.conv.weight, plain.video_encoder.resnet.conv1.conv.weight)


@pytest.mark.slow  # importing torch's compiler stack alone takes ~15 s here
def test_compiled_encoder_keeps_plain_names_and_checkpoints(tmp_path):
    model = tiny('RecognizerVisece')
    names = list(model.state_dict())
    apply_fast_paths(model, dict(performance=dict(OFF, compile=dict(dynamic=False))), 'cpu')
    assert model.video_encoder._compiled_call_impl is not None
    assert list(model.state_dict()) == names and not any('_orig_mod' in n for n in names)
    path = str(tmp_path / 'compiled.pth')
    save_checkpoint(model, path)
    plain, state = load_into_plain('RecognizerVisece', path)
    assert all(torch.equal(value, state[name]) for name, value in plain.state_dict().items())


@pytest.mark.slow
def test_compiled_encoder_equals_eager():
    # the aot_eager backend runs the same graph capture and autograd split as inductor, without generating C++
    # (inductor alone takes minutes on a small CPU); inductor's kernels are torch's own business
    eager = tiny('Recognizer3D').train()
    compiled = copy.deepcopy(eager)
    fast = apply_fast_paths(compiled, dict(performance=dict(OFF, compile=dict(backend='aot_eager'),
                                                            channels_last=True)), 'cpu')
    assert fast.compile == dict(backend='aot_eager')
    from torch._dynamo.utils import counters
    graphs = counters['stats']['unique_graphs']
    data = batch()
    loss, grads = loss_and_grads(eager, data)
    compiled_loss, compiled_grads = loss_and_grads(compiled, data)
    assert counters['stats']['unique_graphs'] > graphs, 'the encoder did not run compiled'
    assert compiled_loss == pytest.approx(loss, rel=1e-4)
    for key in grads:
        torch.testing.assert_close(compiled_grads[key], grads[key], rtol=1e-3, atol=1e-5, msg=key)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA')
def test_cuda_backend_flags():
    saved = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        apply_fast_paths(tiny(), dict(performance=dict(OFF, cudnn_benchmark=True, tf32=True)), 'cuda')
        assert torch.backends.cudnn.benchmark and torch.backends.cuda.matmul.allow_tf32
        apply_fast_paths(tiny(), dict(performance=dict(OFF, tf32='conv')), 'cuda')
        assert not torch.backends.cudnn.benchmark and not torch.backends.cuda.matmul.allow_tf32
        assert torch.backends.cudnn.allow_tf32
    finally:
        (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = saved


def test_train_model_applies_the_config_switches(tmp_path, caplog):
    from mmcv import Config

    from pyskl.apis import train_model
    from pyskl.datasets import build_dataset
    from pyskl.datasets.synthetic import write_synthetic_dataset

    ann = str(tmp_path / 'tiny.pkl')
    write_synthetic_dataset(ann, num_train_per_class=1, num_val_per_class=1, seed=1, min_frames=12, max_frames=16)
    cfg = Config.fromfile('configs/demo/posec3d_synthetic.py')
    cfg.merge_from_dict({'model.backbone.base_channels': 4, 'model.backbone.stage_blocks': (1, 1, 1),
                         'model.cls_head.in_channels': 64, 'data.train.ann_file': ann, 'data.videos_per_gpu': 6,
                         'data.workers_per_gpu': 0, 'total_epochs': 1, 'log_config.interval': 1,
                         'checkpoint_config.interval': 1, 'work_dir': str(tmp_path / 'work'),
                         'performance': dict(channels_last=True, amp='bf16', fused_optimizer=True)})
    cfg.data.train.pipeline[0]['clip_len'] = 4
    torch.manual_seed(0)
    model = build_model(cfg.model)
    with caplog.at_level('INFO', logger='pyskl'):
        train_model(model, build_dataset(cfg.data.train), cfg)
    line = [r.getMessage() for r in caplog.records if 'performance on cpu' in r.getMessage()]
    assert line and 'channels_last=True (config)' in line[0] and 'amp=bf16 (config)' in line[0]
    assert model.backbone.conv1.conv.weight.is_contiguous(memory_format=CL3D)
    plain = build_model(cfg.model)
    load_checkpoint(plain, str(tmp_path / 'work' / 'epoch_1.pth'), strict=True)
    for name, value in plain.state_dict().items():
        assert torch.equal(value, model.state_dict()[name]), name
    cfg.performance = dict(channel_last=True)
    with pytest.raises(KeyError, match='known'):
        train_model(build_model(cfg.model), build_dataset(cfg.data.train), cfg)
