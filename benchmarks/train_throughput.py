"""End-to-end training throughput of a config through the real `tools/train.py` path, for each performance setting.

    python benchmarks/train_throughput.py CONFIG [--device cuda|cpu] [--iters 10] [--warmup 3] [--batch 16]
        [--settings fp32 channels_last amp all default] [--repeats 3] [--procs 1 2] [--device-heatmap]
        [--workers 2] [--threads 1] [--text-init none]

Every run is a fresh `tools/train.py` process (`tools/dist_train.sh` with ``--procs N``: N processes, NCCL on GPUs,
gloo on CPUs) training one epoch of ``warmup + iters`` iterations on a synthetic pickle (the embedded synthetic
skeleton set, so the config's own pipeline gives the config's clip shapes), with the config's data loader,
heatmaps (CPU workers, or the model's device with ``--device-heatmap``), model, optimizer and hooks. A hook
(`ThroughputHook`, registered through the config's ``custom_hooks``) times every iteration after ``warmup``:

- clips/s (all processes) and ms/step;
- the share of the step spent waiting for the data loader (``next(loader)``, the time between the end of one
  iteration and the start of the next), and its mean;
- peak memory: CUDA ``max_memory_allocated`` on GPUs, the training process's peak resident set size on the CPU
  (data-loader workers not included);
- the ratio of clips/s to the ``fp32`` setting measured in the same invocation.

Settings (each is a ``performance`` dict, see `pyskl/core/fast_paths.py`): ``fp32`` (every switch off, TF32
convolutions on CUDA as PyTorch does by default: the behaviour before the switches existed), one switch on top of
it (``cudnn_benchmark``, ``tf32``, ``channels_last``, ``amp`` (what ``fp16 = dict()`` means: float16 on CUDA,
bfloat16 on the CPU), ``bf16``, ``fp16``, ``fused_optimizer``, ``compile``), ``all`` (every switch but compile,
bfloat16 autocast), ``all+compile``, and ``default`` (the device defaults). ``--repeats`` interleaves the settings
and reports the median, with the spread of clips/s.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

import torch
from mmcv.runner import HOOKS, Hook

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SWITCHES_OFF = dict(cudnn_benchmark=False, tf32=False, channels_last=False, amp=False, compile=False,
                    fused_optimizer=False)
SINGLE = ('cudnn_benchmark', 'tf32', 'channels_last', 'fused_optimizer', 'compile')
DEFAULT_SETTINGS = dict(cuda=['fp32', 'cudnn_benchmark', 'tf32', 'channels_last', 'bf16', 'fp16', 'fused_optimizer',
                              'all', 'default'],
                        cpu=['fp32', 'channels_last', 'bf16', 'fused_optimizer', 'all', 'default'])
KEYPOINT_KEYS = ['keypoint', 'keypoint_score', 'img_shape']


def setting_performance(name: str, device_type: str) -> Optional[Dict[str, Any]]:
    """The ``performance`` dict of a named setting (None for 'default': the device defaults)."""
    base = dict(SWITCHES_OFF, tf32='conv' if device_type == 'cuda' else False)
    if name == 'default':
        return None
    if name == 'fp32':
        return base
    if name in SINGLE:
        return dict(base, **{name: True})
    if name == 'amp':
        return dict(base, amp='fp16' if device_type == 'cuda' else 'bf16')
    if name in ('bf16', 'fp16'):
        return dict(base, amp=name)
    if name in ('all', 'all+compile'):
        return dict(cudnn_benchmark=device_type == 'cuda', tf32=device_type == 'cuda', channels_last=True, amp='bf16',
                    fused_optimizer=True, compile=name == 'all+compile')
    raise ValueError(f'unknown setting {name!r}; use fp32, default, all, all+compile, amp, bf16, fp16 or one of '
                     f'{list(SINGLE)}')


@HOOKS.register_module()
class ThroughputHook(Hook):
    """Times every training iteration and the wait for its batch; writes them as JSON after the run (rank 0).

    Register it with the lowest priority, so that ``after_train_iter`` runs after the optimizer step and the other
    hooks, and ``before_train_iter`` right before the model step. CUDA work is synchronised before each reading.

    Args:
        out_file (str): the JSON file to write.
    """

    def __init__(self, out_file: str):
        self.out_file = out_file
        self.records: List[List[float]] = []
        self._last = 0.0
        self._wait = 0.0

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def before_run(self, runner) -> None:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def before_train_epoch(self, runner) -> None:
        self._last = self._now()

    def before_train_iter(self, runner) -> None:
        now = self._now()
        self._wait = now - self._last

    def after_train_iter(self, runner) -> None:
        now = self._now()
        self.records.append([self._wait, now - self._last, int(runner.outputs['num_samples'])])
        self._last = now

    def after_run(self, runner) -> None:
        rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        if rank != 0:
            return
        cuda = torch.cuda.is_available()
        result = dict(records=self.records, world_size=runner.world_size, threads=torch.get_num_threads(),
                      device=torch.cuda.get_device_name() if cuda else 'cpu',
                      peak_mib=(torch.cuda.max_memory_allocated() / 2**20 if cuda
                                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      peak_kind='CUDA allocated' if cuda else 'CPU peak RSS')
        with open(self.out_file, 'w') as f:
            json.dump(result, f)


def _train_dataset_cfg(data_train: Dict[str, Any]) -> Dict[str, Any]:
    cfg = data_train
    while cfg.get('type') in ('RepeatDataset', 'ClassBalancedDataset'):
        cfg = cfg['dataset']
    return cfg


def device_side_pipeline(pipeline: List[Dict[str, Any]]):
    """The pipeline cut at its heatmap step, ending in compact keypoints, and the heatmap arguments for the model."""
    names = [step['type'] for step in pipeline]
    if 'FormatCompactKeypoints' in names:
        return pipeline, None
    if 'GeneratePoseTarget' not in names:
        raise ValueError(f'--device-heatmap: the training pipeline has no GeneratePoseTarget step ({names})')
    index = names.index('GeneratePoseTarget')
    heatmap = {k: v for k, v in pipeline[index].items() if k != 'type'}
    tail = [dict(type='FormatCompactKeypoints', max_people=2),
            dict(type='Collect', keys=KEYPOINT_KEYS + ['label'], meta_keys=[]),
            dict(type='ToTensor', keys=KEYPOINT_KEYS + ['label'])]
    return list(pipeline[:index]) + tail, heatmap


def write_run_config(args, base_cfg, ann_file: str, setting: str, device_type: str, procs: int, out_dir: str):
    """A complete config for one timed run: the base config with a synthetic train set, one epoch, the hook."""
    cfg = copy.deepcopy(base_cfg)
    batch = args.batch or cfg.data.get('videos_per_gpu', 16)
    dataset = copy.deepcopy(_train_dataset_cfg(cfg.data.train))
    pipeline = dataset['pipeline']
    if args.device_heatmap:
        pipeline, heatmap = device_side_pipeline(pipeline)
        if heatmap is not None:
            cfg.model.setdefault('train_cfg', {})
            cfg.model.train_cfg = dict(cfg.model.train_cfg or {}, heatmap=heatmap)
    samples = 18 * args.per_class  # the synthetic set has 18 classes
    times = math.ceil(batch * procs * (args.warmup + args.iters) / samples)
    cfg.data.train = dict(type='RepeatDataset', times=times,
                          dataset=dict(type=dataset.get('type', 'PoseDataset'), ann_file=ann_file, split='train',
                                       pipeline=pipeline))
    cfg.data.videos_per_gpu = batch
    if args.workers is not None:
        cfg.data.workers_per_gpu = args.workers
    cfg.data.train_dataloader = dict(cfg.data.get('train_dataloader', {}), drop_last=True)
    if args.text_init is not None and 'text_encoder_init' in cfg.model:
        cfg.model.text_encoder_init = None if args.text_init == 'none' else args.text_init
    cfg.total_epochs = 1
    cfg.pop('runner', None)
    cfg.log_config = dict(interval=max(1, args.warmup + args.iters), hooks=[dict(type='TextLoggerHook')])
    cfg.checkpoint_config = dict(interval=1)
    performance = setting_performance(setting, device_type)
    cfg.performance = dict(performance) if performance is not None else {}
    result = osp.join(out_dir, 'throughput.json')
    cfg.custom_imports = dict(imports=['benchmarks.train_throughput'], allow_failed_imports=False)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='ThroughputHook', out_file=result,
                                                                 priority='VERY_LOW')]
    cfg.work_dir = osp.join(out_dir, 'work')
    path = osp.join(out_dir, 'config.py')
    cfg.dump(path)
    return path, result, batch


def run_once(args, base_cfg, ann_file: str, setting: str, device_type: str, procs: int, tmp: str, index: int):
    out_dir = osp.join(tmp, f'{index:03d}_{setting}_{procs}')
    os.makedirs(out_dir)
    config, result, batch = write_run_config(args, base_cfg, ann_file, setting, device_type, procs, out_dir)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''), HF_HUB_OFFLINE='1',
               PYTHON=sys.executable)
    if device_type == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    if args.threads is not None:
        env['OMP_NUM_THREADS'] = str(args.threads)
    common = ['--work-dir', osp.join(out_dir, 'work'), '--seed', '0', '--no-auto-resume']
    if procs > 1 or args.launcher_always:
        env['PORT'] = str(args.port + index % 500)
        cmd = ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), config, str(procs)] + common
    else:
        cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config] + common
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=args.timeout)
    if proc.returncode != 0 or not osp.exists(result):
        tail = '\n'.join(proc.stdout.splitlines()[-25:])
        print(f'  [{setting}, {procs} proc] failed (exit {proc.returncode}):\n{tail}', flush=True)
        return None
    with open(result) as f:
        data = json.load(f)
    marker = 'performance on '
    performance = [line.split(marker, 1)[1] for line in proc.stdout.splitlines() if marker in line]
    timed = data['records'][args.warmup:]
    if not timed:
        print(f'  [{setting}] only {len(data["records"])} iterations ran; raise --per-class or lower --warmup')
        return None
    step = sum(r[1] for r in timed) / len(timed)
    wait = sum(r[0] for r in timed) / len(timed)
    clips = sum(r[2] for r in timed) * data['world_size'] / sum(r[1] for r in timed)
    return dict(setting=setting, procs=procs, clips=clips, step_ms=step * 1000, wait_ms=wait * 1000,
                wait_share=wait / step, peak_mib=data['peak_mib'], peak_kind=data['peak_kind'], batch=batch,
                threads=data['threads'], device=data['device'], performance=performance[:1])


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def summarise(runs: List[Dict[str, Any]], settings: List[str], procs_list: List[int]) -> None:
    base = {}
    rows = []
    for procs in procs_list:
        for setting in settings:
            mine = [r for r in runs if r['setting'] == setting and r['procs'] == procs]
            if not mine:
                rows.append((setting, procs, None))
                continue
            med = {key: statistics.median(r[key] for r in mine) for key in ('clips', 'step_ms', 'wait_ms',
                                                                           'wait_share', 'peak_mib')}
            med['spread'] = (min(r['clips'] for r in mine), max(r['clips'] for r in mine), len(mine))
            med['peak_kind'] = mine[0]['peak_kind']
            fp32 = [r['clips'] for r in runs if r['setting'] == 'fp32' and r['procs'] == procs]
            med['rounds'] = ', '.join(f'{r["clips"] / b:.2f}' for r, b in zip(mine, fp32))
            if setting == 'fp32':
                base[procs] = med['clips']
            rows.append((setting, procs, med))
    print('\n| setting | procs | clips/s | ms/step | data wait | peak memory | vs fp32 | clips/s range (runs) | '
          'vs fp32, per round |')
    print('|---|---|---|---|---|---|---|---|---|')
    for setting, procs, med in rows:
        if med is None:
            print(f'| {setting} | {procs} | failed | | | | | | |')
            continue
        ratio = f'{med["clips"] / base[procs]:.2f}x' if procs in base else 'n/a'
        low, high, n = med['spread']
        print(f'| {setting} | {procs} | {med["clips"]:.1f} | {med["step_ms"]:.1f} | {100 * med["wait_share"]:.1f}% '
              f'({med["wait_ms"]:.1f} ms) | {med["peak_mib"]:.0f} MiB ({med["peak_kind"]}) | {ratio} | '
              f'{low:.1f}-{high:.1f} ({n}) | {med["rounds"]} |')
    if len(procs_list) > 1:
        for setting in settings:
            got = {p: m['clips'] for s, p, m in rows if s == setting and m is not None}
            if procs_list[0] in got:
                scale = ', '.join(f'{p} procs {got[p] / got[procs_list[0]]:.2f}x' for p in procs_list[1:] if p in got)
                print(f'scaling of {setting} against {procs_list[0]} process(es): {scale}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default=None)
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per run')
    parser.add_argument('--warmup', type=int, default=3, help='untimed iterations first')
    parser.add_argument('--batch', type=int, default=None, help='clips per process (default: data.videos_per_gpu)')
    parser.add_argument('--workers', type=int, default=None, help='data.workers_per_gpu (default: the config)')
    parser.add_argument('--settings', nargs='+', default=None)
    parser.add_argument('--repeats', type=int, default=1, help='runs per setting, interleaved; the median is shown')
    parser.add_argument('--procs', type=int, nargs='+', default=[1], help='process counts (tools/dist_train.sh)')
    parser.add_argument('--launcher-always', action='store_true', help='use tools/dist_train.sh for 1 process too')
    parser.add_argument('--device-heatmap', action='store_true', help='draw the heatmaps on the model device')
    parser.add_argument('--text-init', default=None, help="override text_encoder_init ('none': random weights)")
    parser.add_argument('--per-class', type=int, default=2, help='synthetic clips per class (18 classes)')
    parser.add_argument('--threads', type=int, default=None, help='OMP_NUM_THREADS of every run (default: unset)')
    parser.add_argument('--port', type=int, default=29650)
    parser.add_argument('--timeout', type=int, default=900, help='seconds per run')
    args = parser.parse_args()

    from mmcv import Config

    from pyskl.datasets.synthetic import write_synthetic_dataset

    device_type = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device_type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: CUDA is not available here')
    settings = args.settings or DEFAULT_SETTINGS[device_type]
    for name in settings:
        setting_performance(name, device_type)
    if 'fp32' not in settings:
        settings = ['fp32'] + settings
    base_cfg = Config.fromfile(args.config)
    device = torch.cuda.get_device_name() if device_type == 'cuda' else cpu_name()
    print(f'{args.config} on {device_type} ({device}); torch {torch.__version__}, {os.cpu_count()} CPUs, '
          f'{args.warmup} + {args.iters} iterations per run, {args.repeats} run(s) per setting, '
          f'device-side heatmaps: {args.device_heatmap}', flush=True)
    with tempfile.TemporaryDirectory(prefix='train_throughput_') as tmp:
        ann_file = osp.join(tmp, 'synthetic.pkl')
        write_synthetic_dataset(ann_file, num_train_per_class=args.per_class, num_val_per_class=1, seed=0,
                                min_frames=40, max_frames=100)
        runs, index = [], 0
        for _ in range(args.repeats):
            for procs in args.procs:
                for setting in settings:
                    started = time.perf_counter()
                    run = run_once(args, base_cfg, ann_file, setting, device_type, procs, tmp, index)
                    index += 1
                    if run is not None:
                        runs.append(run)
                        print(f'  {setting} ({procs} proc): {run["clips"]:.1f} clips/s, {run["step_ms"]:.1f} ms/step,'
                              f' data wait {100 * run["wait_share"]:.1f}%, batch {run["batch"]}/proc, '
                              f'{run["threads"]} threads, {time.perf_counter() - started:.0f} s; '
                              f'{"; ".join(run["performance"])}', flush=True)
    summarise(runs, settings, args.procs)


if __name__ == '__main__':
    main()
