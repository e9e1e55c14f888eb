"""Evaluation throughput of RecognizerVisece against Recognizer3D with the same backbone and the same input.

    python benchmarks/text_branch_overhead.py                # the CPU demo models (synthetic-set sizes)
    python benchmarks/text_branch_overhead.py --standard     # the NTU60 R50 models, 48x64x64 clips

Both models run `forward(return_loss=False)` over the same batches in eval mode, as one evaluation pass: the text
branch encodes the class sentences once per pass (its cache), so its cost is the projection and one small matrix
product per batch. Prints clips/s of each and the ratio; the text branch should cost under 5% at test time.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(config: str, device, text_init: str = 'minilm'):
    from mmcv import Config

    from pyskl.models import build_model
    cfg = Config.fromfile(config)
    if 'text_encoder_init' in cfg.model:
        cfg.model.text_encoder_init = text_init
    return build_model(cfg.model).to(device).eval()


def throughput(model, batches, repeats: int) -> float:
    import torch
    with torch.no_grad():
        model(return_loss=False, imgs=batches[0])  # warm-up (and, for the text branch, a first cache fill)
        if hasattr(model, 'text_branch'):
            model.text_branch.clear_cache()  # a new evaluation pass: the sentences are encoded again once
        clips = 0
        start = time.perf_counter()
        for _ in range(repeats):
            for imgs in batches:
                model(return_loss=False, imgs=imgs)
                clips += imgs.shape[0] * imgs.shape[1]
        if batches[0].is_cuda:
            torch.cuda.synchronize()
    return clips / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--standard', action='store_true', help='NTU60 R50 models instead of the CPU demo ones')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--clips', type=int, default=2, help='clips per sample')
    parser.add_argument('--batches', type=int, default=6)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--device', default=None)
    parser.add_argument('--text-init', default='minilm', help="text_encoder_init of the text model ('none': random)")
    args = parser.parse_args()

    import torch
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if args.standard:
        cfg3d = 'configs/posec3d/slowonly_r50_ntu60_xsub/joint.py'
        cfg_text = 'configs/visece/visece_r50_bert_ntu60_xsub.py'
        shape = (17, 48, 64, 64)
    else:
        cfg3d = 'configs/demo/posec3d_synthetic.py'
        cfg_text = 'configs/demo/visece_minilm_synthetic.py'
        shape = (17, 16, 24, 24)
    torch.manual_seed(0)
    batches = [torch.rand(args.batch, args.clips, *shape, device=device) for _ in range(args.batches)]
    model3d = build(cfg3d, device)
    model_text = build(cfg_text, device, None if args.text_init == 'none' else args.text_init)
    rates = {}
    for name, model in (('Recognizer3D', model3d), ('RecognizerVisece', model_text), ('Recognizer3D (again)', model3d)):
        rates[name] = throughput(model, batches, args.repeats)
        print(f'{name:22s} {rates[name]:8.1f} clips/s')
    base = (rates['Recognizer3D'] + rates['Recognizer3D (again)']) / 2
    ratio = rates['RecognizerVisece'] / base
    print(f'device {device}, input {args.batch} x {args.clips} x {"x".join(map(str, shape))}, '
          f'{args.batches * args.repeats} batches per pass')
    print(f'RecognizerVisece / Recognizer3D throughput: {ratio:.3f} (text-branch cost {100 * (1 - ratio):.1f}%)')


if __name__ == '__main__':
    main()
