"""Time training steps of a config's model on random input of the config's training shape, per performance setting.

    python benchmarks/train_step.py [CONFIG] [--batch 16] [--iters 10] [--settings fp32 channels_last bf16 all]
        [--repeats 3] [--amp] [--device cuda|cpu] [--threads N]

The model-only view of `train_throughput.py` (no data loader, no runner): forward + backward + optimizer step of the
config's model and optimizer, with each setting applied by `pyskl.core.fast_paths.apply_fast_paths` to a freshly
built model (settings as in `train_throughput.py`; ``--amp`` alone is the legacy ``fp16 = dict()`` run). The
settings are interleaved ``--repeats`` times; it prints the median ms/step and clips/s, the spread, peak memory on
CUDA and the ratio to ``fp32`` measured in the same run.
"""
import argparse
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', default='configs/posec3d/slowonly_r50_ntu60_xsub/joint.py')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--settings', nargs='+', default=None, help='see train_throughput.py (default: fp32)')
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--amp', action='store_true', help='shorthand for --settings amp')
    parser.add_argument('--clip-len', type=int, default=48)
    parser.add_argument('--size', type=int, default=56)
    parser.add_argument('--text-init', default=None, help='override text_encoder_init (text-supervised models)')
    parser.add_argument('--device', default=None)
    parser.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    args = parser.parse_args()

    import torch
    from mmcv import Config
    from mmcv.runner import build_optimizer
    from train_throughput import cpu_name, setting_performance

    from pyskl.core.fast_paths import apply_fast_paths
    from pyskl.models import build_model

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    settings = args.settings or (['amp'] if args.amp else ['fp32'])
    for name in settings:
        setting_performance(name, device.type)
    cfg = Config.fromfile(args.config)
    if 'text_encoder_init' in cfg.model and args.text_init is not None:
        cfg.model.text_encoder_init = None if args.text_init == 'none' else args.text_init
    encoder = cfg.model.get('backbone', cfg.model.get('video_encoder', {}))
    channels = encoder.get('in_channels', 17)
    num_classes = cfg.model.get('num_classes') or cfg.model.get('cls_head', {}).get('num_classes', 60)
    imgs = torch.rand(args.batch, 1, channels, args.clip_len, args.size, args.size, device=device)
    label = torch.randint(0, num_classes, (args.batch, ), device=device)
    name = osp.splitext(osp.basename(args.config))[0]
    threads = torch.get_num_threads()
    where = torch.cuda.get_device_name() if device.type == 'cuda' else f'{cpu_name()}, {threads} threads'
    print(f'{args.config} [{name}] on {device} ({where}), torch {torch.__version__}, batch {args.batch} x '
          f'{channels}x{args.clip_len}x{args.size}x{args.size}, {args.warmup} + {args.iters} steps, '
          f'{args.repeats} run(s) per setting', flush=True)

    def run(setting: str) -> dict:
        torch.manual_seed(0)
        model = build_model(cfg.model).to(device).train()
        performance = setting_performance(setting, device.type)
        fast = apply_fast_paths(model, dict(performance={} if performance is None else performance), device.type)
        optimizer = build_optimizer(model, fast.optimizer_config(cfg.optimizer))
        scaler = torch.amp.GradScaler(device.type, init_scale=fast.loss_scale, enabled=fast.amp == 'fp16')
        data = dict(imgs=imgs, label=label)

        def step() -> float:
            with torch.autocast(device.type, dtype=fast.amp_dtype or torch.float32, enabled=fast.amp is not None):
                out = model.train_step(data, optimizer)
            optimizer.zero_grad()
            scaler.scale(out['loss']).backward()
            scaler.step(optimizer)
            scaler.update()
            return float(out['loss'].detach())

        for _ in range(args.warmup):
            step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        losses = [step() for _ in range(args.iters)]
        if device.type == 'cuda':
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / args.iters
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == 'cuda' else None
        finite = all(v == v and abs(v) != float('inf') for v in losses)
        print(f'  {setting}: {seconds * 1000:.1f} ms/step, {args.batch / seconds:.1f} clips/s'
              f'{f", peak {peak:.2f} GiB" if peak is not None else ""}; loss {losses[0]:.4f} -> {losses[-1]:.4f}, '
              f'finite: {finite}', flush=True)
        return dict(seconds=seconds, peak=peak)

    results = {setting: [] for setting in settings}
    for _ in range(args.repeats):
        for setting in settings:
            results[setting].append(run(setting))
    fp32 = [r['seconds'] for r in results.get('fp32', [])]
    print('\n| setting | ms/step (median) | clips/s | range ms/step (runs) | peak memory | vs fp32 | '
          'vs fp32, per round |')
    print('|---|---|---|---|---|---|---|')
    for setting, runs in results.items():
        seconds = statistics.median(r['seconds'] for r in runs)
        peak = runs[0]['peak']
        ratio = f'{statistics.median(fp32) / seconds:.2f}x' if fp32 else 'n/a'
        # each round runs every setting once, one after the other: the ratio within a round shares its load
        rounds = ', '.join(f'{a / r["seconds"]:.2f}' for a, r in zip(fp32, runs)) if fp32 else 'n/a'
        low, high = min(r['seconds'] for r in runs), max(r['seconds'] for r in runs)
        print(f'| {setting} | {seconds * 1000:.1f} | {args.batch / seconds:.1f} | {low * 1000:.0f}-{high * 1000:.0f} '
              f'({len(runs)}) | {f"{peak:.2f} GiB" if peak is not None else "n/a (CPU)"} | {ratio} | {rounds} |')

if __name__ == '__main__':
    main()
