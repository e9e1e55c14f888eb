"""Fast paths of the training step: cuDNN autotuning, TF32, channels-last 3D convolutions, mixed precision,
``torch.compile`` of the video encoder and fused optimizers, as the ``performance`` config switches.

``performance = dict(cudnn_benchmark=None, tf32=None, channels_last=None, amp=None, compile=False,
fused_optimizer=None)`` in a config (``configs/_base_/default_runtime.py`` documents it); ``None`` takes the default
of the device the run trains on (`device_defaults`). `apply_fast_paths` is what `pyskl.apis.train_model` calls: it
resolves the switches, sets the global backend flags, converts the video encoders and returns what the runner and
the optimizer builder need (`FastPaths`).

The defaults follow one rule: a switch is on by default on a device only where it was measured faster there and the
final accuracy stayed within noise of float32 (``benchmarks/README.md`` has the figures). The CPU defaults were
measured on an AMX CPU; bfloat16 autocast is only a CPU default where the CPU has bfloat16 arithmetic
(AVX512-BF16 or AMX), because elsewhere oneDNN emulates it and it is slower than float32.

Why each switch keeps checkpoints plain: ``channels_last`` only changes the strides of the 5-D weights (a state
dict saved from it loads into a plain model, whose ``load_state_dict`` copies values whatever the strides), and
``compile`` uses ``nn.Module.compile``, which compiles the module's call in place and leaves parameter names
untouched (no ``_orig_mod.`` prefix, unlike wrapping the module in ``torch.compile``).
"""
import inspect
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

import torch
import torch.nn as nn

from ..utils.logger import get_root_logger

PERFORMANCE_KEYS = ('cudnn_benchmark', 'tf32', 'channels_last', 'amp', 'compile', 'fused_optimizer')
AMP_NAMES = {'bf16': 'bf16', 'bfloat16': 'bf16', 'fp16': 'fp16', 'float16': 'fp16'}
AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}
TF32_VALUES = (True, False, 'conv')


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX), so oneDNN's bf16 kernels are fast."""
    checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def device_defaults(device_type: str) -> Dict[str, Any]:
    """The value each switch takes when the config leaves it at None, for 'cuda' or 'cpu'.

    CUDA: cuDNN autotuning, TF32 (matmuls and convolutions) and fused optimizers are on; ``channels_last`` and
    ``amp`` stay off until ``benchmarks/gpu_throughput.sh`` has measured them faster on a GPU (the float16 autocast
    measured before these switches existed was slower than float32 for the 3D convolutions).
    CPU: channels-last 3D convolutions (oneDNN's blocked kernels) and, on CPUs with bfloat16 arithmetic, bfloat16
    autocast are on; cuDNN and TF32 do not exist there; the fused optimizer step gave no gain above the noise (the
    optimizer is a negligible part of the step); ``torch.compile`` is off everywhere (on the CPU its inductor backend
    compiled the demo model for about two minutes, and its steps were slower than eager ones).
    """
    if device_type == 'cuda':
        return dict(cudnn_benchmark=True, tf32=True, channels_last=False, amp=None, compile=False,
                    fused_optimizer=True)
    if device_type == 'cpu':
        return dict(cudnn_benchmark=False, tf32=False, channels_last=True, amp='bf16' if cpu_has_fast_bf16() else None,
                    compile=False, fused_optimizer=False)
    raise ValueError(f'performance switches: unknown device type {device_type!r}; use "cuda" or "cpu"')


@dataclass
class FastPaths:
    """The resolved switches of a run and where each came from ('config', 'fp16' or 'default').

    Attributes:
        cudnn_benchmark (bool), tf32 (bool | 'conv'), channels_last (bool), compile (bool | dict),
        fused_optimizer (bool): the switches.
        amp (str, optional): 'bf16', 'fp16' or None (float32).
        loss_scale (float): initial scale of the float16 gradient scaler (from ``fp16=dict(loss_scale=...)``).
        device_type (str): 'cuda' or 'cpu'.
        source (dict): for each switch, 'config', 'fp16' (the legacy ``fp16`` key) or 'default'.
        encoders (list[str]): names of the modules converted to channels-last / compiled.
    """
    cudnn_benchmark: bool = False
    tf32: Union[bool, str] = False
    channels_last: bool = False
    amp: Optional[str] = None
    compile: Union[bool, Dict[str, Any]] = False
    fused_optimizer: bool = False
    loss_scale: float = 2.**16
    device_type: str = 'cpu'
    source: Dict[str, str] = field(default_factory=dict)
    encoders: List[str] = field(default_factory=list)
    _hooks: List[Any] = field(default_factory=list, repr=False)

    @property
    def amp_dtype(self) -> Optional[torch.dtype]:
        """The autocast dtype of the training forward, or None for float32."""
        return AMP_DTYPES[self.amp] if self.amp else None

    def describe(self) -> str:
        """One line for the log, e.g. ``channels_last=True (default), amp=bf16 (config), ...``."""
        parts = [f'{key}={getattr(self, key)} ({self.source.get(key, "default")})' for key in PERFORMANCE_KEYS]
        return f'performance on {self.device_type}: ' + ', '.join(parts)

    def optimizer_config(self, optimizer_cfg: Mapping[str, Any]) -> Dict[str, Any]:
        """``optimizer_cfg`` with ``fused=True`` (or ``foreach=True``) added where the torch optimizer offers it.

        A config that already sets ``fused`` or ``foreach`` is left as it is; so is every optimizer when the switch
        is off, and optimizers that are not torch's (their ``type`` is not a ``torch.optim`` class).
        """
        cfg = dict(optimizer_cfg)
        if not self.fused_optimizer or 'fused' in cfg or 'foreach' in cfg:
            return cfg
        optim_class = getattr(torch.optim, str(cfg.get('type')), None)
        if not (inspect.isclass(optim_class) and issubclass(optim_class, torch.optim.Optimizer)):
            return cfg
        params = inspect.signature(optim_class).parameters
        if 'fused' in params and self.device_type in _fused_devices():
            cfg['fused'] = True
        elif 'foreach' in params:
            cfg['foreach'] = True
        return cfg

    def remove_hooks(self) -> None:
        """Remove the input-conversion hooks that `apply_fast_paths` registered (the weights keep their strides)."""
        for handle in self._hooks:
            handle.remove()
        self._hooks.clear()


def _fused_devices() -> List[str]:
    from torch.optim.optimizer import _get_fused_kernels_supported_devices
    return list(_get_fused_kernels_supported_devices())


def _check_bool(key: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f'performance.{key}={value!r}: use True, False or None (the device default)')


def _resolve_amp(value: Any, fp16: Optional[Mapping], device_type: str, default: Optional[str]) -> tuple:
    """(amp name or None, source) from ``performance.amp`` and the legacy ``fp16`` config key."""
    if fp16 is not None and not isinstance(fp16, Mapping):
        raise TypeError(f'fp16={fp16!r}: use a dict such as fp16=dict(loss_scale="dynamic"), or remove it')
    legacy = None
    if fp16:
        legacy = 'fp16' if device_type == 'cuda' else 'bf16'  # float16 autocast on the CPU is emulated and slow
    if value is None:
        return (legacy, 'fp16') if legacy else (default, 'default')
    if value is False:
        name = None
    elif value is True:
        name = 'bf16' if device_type == 'cpu' or torch.cuda.is_bf16_supported() else 'fp16'
    elif isinstance(value, str) and value.lower() in AMP_NAMES:
        name = AMP_NAMES[value.lower()]
    else:
        raise ValueError(f"performance.amp={value!r}: use None (device default), False, True, 'bf16' or 'fp16'")
    if name == 'fp16' and device_type == 'cpu':
        raise ValueError("performance.amp='fp16' on the CPU: float16 autocast is emulated there; use 'bf16'")
    if legacy and name != legacy:
        raise ValueError(f'the config sets both fp16={dict(fp16)} (float16 autocast on CUDA, bfloat16 on the CPU) '
                         f'and performance.amp={value!r}; keep one of them')
    return name, 'config'


def _loss_scale(fp16: Optional[Mapping]) -> float:
    scale = (fp16 or {}).get('loss_scale', 'dynamic')
    if isinstance(scale, bool) or not isinstance(scale, (int, float, str)):
        raise TypeError(f'fp16.loss_scale={scale!r}: use "dynamic" or a number')
    if isinstance(scale, str):
        if scale != 'dynamic':
            raise ValueError(f'fp16.loss_scale={scale!r}: use "dynamic" or a number')
        return 2.**16
    return float(scale)


def resolve_performance(performance: Optional[Mapping[str, Any]] = None, fp16: Optional[Mapping] = None,
                        device_type: str = 'cpu', deterministic: bool = False) -> FastPaths:
    """Turn the ``performance`` config dict (and the legacy ``fp16`` dict) into the switches of a run.

    Args:
        performance (dict, optional): keys from ``PERFORMANCE_KEYS``; a missing key or None takes the device
            default. ``tf32`` may also be 'conv' (TF32 convolutions only: PyTorch's own default). ``amp`` is
            False, True (bfloat16 where supported, else float16), 'bf16' or 'fp16'. ``compile`` is a bool or a
            dict of ``torch.compile`` arguments (e.g. ``dict(mode='max-autotune')``).
        fp16 (dict, optional): the pyskl / mmcv ``fp16`` key; when set, it means float16 autocast with a gradient
            scaler on CUDA and bfloat16 autocast on the CPU, as it always did.
        device_type (str): 'cuda' or 'cpu'.
        deterministic (bool): deterministic kernels were asked for: cuDNN autotuning defaults to off.

    Raises:
        KeyError: an unknown key (the message lists the known ones).
        TypeError / ValueError: a value of the wrong kind, or ``fp16`` and ``performance.amp`` disagreeing.
    """
    performance = dict(performance or {})
    unknown = sorted(set(performance) - set(PERFORMANCE_KEYS))
    if unknown:
        raise KeyError(f'unknown performance switches {unknown}; known: {list(PERFORMANCE_KEYS)}')
    defaults = device_defaults(device_type)
    if deterministic:
        defaults['cudnn_benchmark'] = False
    values, source = {}, {}
    for key in ('cudnn_benchmark', 'channels_last', 'fused_optimizer'):
        _check_bool(key, performance.get(key))
    tf32 = performance.get('tf32')
    if tf32 is not None and tf32 not in TF32_VALUES:
        raise ValueError(f"performance.tf32={tf32!r}: use True, False, 'conv' or None (the device default)")
    compile_cfg = performance.get('compile')
    if compile_cfg is not None and not isinstance(compile_cfg, (bool, Mapping)):
        raise TypeError(f'performance.compile={compile_cfg!r}: use True, False or a dict of torch.compile arguments')
    for key in ('cudnn_benchmark', 'tf32', 'channels_last', 'compile', 'fused_optimizer'):
        value = performance.get(key)
        values[key] = defaults[key] if value is None else (dict(value) if isinstance(value, Mapping) else value)
        source[key] = 'default' if value is None else 'config'
    values['amp'], source['amp'] = _resolve_amp(performance.get('amp'), fp16, device_type, defaults['amp'])
    return FastPaths(loss_scale=_loss_scale(fp16), device_type=device_type, source=source, **values)


def video_encoders(model: nn.Module) -> Dict[str, nn.Module]:
    """The outermost sub-modules of ``model`` that hold 3D convolutions, by name (``backbone``, ``video_encoder``,
    the momentum copy ``video_encoder_m``, ...); ``{'': model}`` when ``model`` is itself a 3D convolution."""
    if isinstance(model, nn.Conv3d):
        return {'': model}
    found = {}
    for name, child in model.named_children():
        if any(isinstance(m, nn.Conv3d) for m in child.modules()):
            found[name] = child
    return found


def _to_channels_last(args: tuple) -> tuple:
    return tuple(a.contiguous(memory_format=torch.channels_last_3d) if isinstance(a, torch.Tensor) and a.dim() == 5
                 else a for a in args)


def _channels_last_hook(module: nn.Module, args: tuple) -> tuple:
    return _to_channels_last(args)


def convert_channels_last(module: nn.Module) -> None:
    """Give every 5-D parameter and buffer of ``module`` (the Conv3d weights) channels-last-3D strides, in place.

    The tensors stay the same objects (``param.data`` is replaced), so an optimizer or a momentum copy built
    earlier keeps working on them.
    """
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            if tensor.dim() == 5:
                tensor.data = tensor.data.contiguous(memory_format=torch.channels_last_3d)


def apply_fast_paths(model: nn.Module, cfg: Optional[Mapping[str, Any]] = None, device_type: Optional[str] = None,
                     logger=None) -> FastPaths:
    """Resolve ``cfg.performance`` (and ``cfg.fp16``) and apply it to ``model`` and to the torch backends.

    Call it on the unwrapped model before it is wrapped for (distributed) data parallelism and before its optimizer
    is built; then build the optimizer from ``fast.optimizer_config(cfg.optimizer)`` and run the training forward
    under ``torch.autocast(dtype=fast.amp_dtype)`` when that is not None (`EpochRunner` does, with ``amp_dtype``).

    What it does, switch by switch:
        cudnn_benchmark / tf32: set ``torch.backends.cudnn.benchmark``, ``torch.backends.cuda.matmul.allow_tf32``
            and ``torch.backends.cudnn.allow_tf32`` (CUDA only: they are process-wide flags);
        channels_last: the 5-D weights of every video encoder (`video_encoders`) get channels-last-3D strides, and
            a forward pre-hook gives their 5-D inputs the same layout;
        compile: ``nn.Module.compile(**compile_args)`` on each video encoder that is not a momentum copy.

    Args:
        model (nn.Module): the recognizer (or any module).
        cfg (dict | mmcv.Config, optional): reads ``performance`` and ``fp16``.
        device_type (str, optional): 'cuda' or 'cpu'; default: 'cuda' when CUDA is available.
        logger (logging.Logger, optional): where the resolved switches are logged.

    Returns:
        FastPaths: the resolved switches (``amp_dtype``, ``loss_scale``, ``optimizer_config``).
    """
    cfg = cfg or {}
    device_type = device_type or ('cuda' if torch.cuda.is_available() else 'cpu')
    fast = resolve_performance(cfg.get('performance'), cfg.get('fp16'), device_type,
                               deterministic=bool(torch.backends.cudnn.deterministic))
    if device_type == 'cuda':
        torch.backends.cudnn.benchmark = bool(fast.cudnn_benchmark)
        torch.backends.cuda.matmul.allow_tf32 = fast.tf32 is True
        torch.backends.cudnn.allow_tf32 = fast.tf32 in (True, 'conv')
    encoders = video_encoders(model)
    fast.encoders = list(encoders)
    if fast.channels_last:
        for encoder in encoders.values():
            convert_channels_last(encoder)
            fast._hooks.append(encoder.register_forward_pre_hook(_channels_last_hook))
    if fast.compile:
        from ..models.common.momentum import MomentumCopy
        kwargs = fast.compile if isinstance(fast.compile, dict) else {}
        for encoder in encoders.values():
            if not isinstance(encoder, MomentumCopy):
                encoder.compile(**kwargs)
    (logger or get_root_logger()).info(fast.describe() + f'; video encoders: {fast.encoders or "none"}')
    return fast
