"""Time training steps of a config's model on random input of the config's training shape.

    python benchmarks/train_step.py [CONFIG] [--batch 16] [--iters 10] [--amp] [--device cuda|cpu]

Prints seconds per step, clips per second and (on CUDA) peak memory. With --amp the step runs under autocast
(float16 + gradient scaler on CUDA, bfloat16 on CPU), as `fp16 = dict(...)` in a config does.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', default='configs/posec3d/slowonly_r50_ntu60_xsub/joint.py')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--clip-len', type=int, default=48)
    parser.add_argument('--size', type=int, default=56)
    parser.add_argument('--text-init', default=None, help='override text_encoder_init (text-supervised models)')
    parser.add_argument('--device', default=None)
    args = parser.parse_args()

    import torch
    from mmcv import Config

    from pyskl.models import build_model

    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    cfg = Config.fromfile(args.config)
    if 'text_encoder_init' in cfg.model and args.text_init is not None:
        cfg.model.text_encoder_init = None if args.text_init == 'none' else args.text_init
    model = build_model(cfg.model).to(device).train()
    channels = cfg.model.get('backbone', cfg.model.get('video_encoder', {})).get('in_channels', 17)
    num_classes = cfg.model.get('num_classes') or cfg.model.get('cls_head', {}).get('num_classes', 60)
    imgs = torch.rand(args.batch, 1, channels, args.clip_len, args.size, args.size, device=device)
    label = torch.randint(0, num_classes, (args.batch, ), device=device)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)
    amp_dtype = torch.float16 if device.type == 'cuda' else torch.bfloat16
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp and device.type == 'cuda')

    def step() -> float:
        with torch.autocast(device.type, dtype=amp_dtype, enabled=args.amp):
            out = model.train_step(dict(imgs=imgs, label=label), optimizer)
        optimizer.zero_grad()
        scaler.scale(out['loss']).backward()
        scaler.step(optimizer)
        scaler.update()
        return float(out['loss'])

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
    name = osp.splitext(osp.basename(args.config))[0]
    mem = f', peak memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB' if device.type == 'cuda' else ''
    print(f'{args.config} [{name}] on {device} ({torch.cuda.get_device_name() if device.type == "cuda" else "CPU"}), '
          f'batch {args.batch} x {channels}x{args.clip_len}x{args.size}x{args.size}, amp={args.amp}: '
          f'{seconds * 1000:.1f} ms/step, {args.batch / seconds:.1f} clips/s{mem}; '
          f'loss {losses[0]:.4f} -> {losses[-1]:.4f}, finite: {all(map(lambda v: v == v, losses))}')


if __name__ == '__main__':
    main()
