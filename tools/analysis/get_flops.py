"""FLOPs and parameters of a config's model at the input shape of its test pipeline.

    python tools/analysis/get_flops.py CONFIG [--shape C T H W] [--num-joints 17] [--out-dir DIR]

The input shape is what ``cfg.data.test.pipeline`` makes of a skeleton sample (one clip of ``[C, T, H, W]``
heatmaps), unless ``--shape`` gives it. FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (one
multiply-add = 2 FLOPs; convolutions and matrix products, not element-wise ops) for one clip; a test sample costs
``num_clips`` times that. For a text-supervised recognizer the video path (encoder and projection, per clip) and the
text path (all class sentences, computed once per evaluation) are counted apart. Prints and writes ``flops.json``
and ``flops.png`` (FLOPs per module) to ``--out-dir`` (default: ``work_dirs/flops/<config name>``).
"""
import argparse
import os.path as osp
import sys
from typing import Callable, Dict, Tuple

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402


def count_flops(fn: Callable[[], object], depth: int = 2) -> Tuple[int, Dict[str, int]]:
    """Total FLOPs of calling ``fn`` and the FLOPs per module (module paths up to ``depth``)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False, depth=depth)
    with torch.no_grad(), counter:
        fn()
    per_module = {name: int(sum(ops.values())) for name, ops in counter.get_flop_counts().items() if name != 'Global'}
    return int(counter.get_total_flops()), per_module


def pipeline_input_shape(cfg, num_joints: int = 17, num_frames: int = 100) -> Tuple[int, ...]:
    """[num_clips, C, T, H, W] of one dummy skeleton sample through the config's test pipeline."""
    from pyskl.apis.inference import prepare_sample
    rng = np.random.default_rng(0)
    height, width = 480, 640
    keypoint = np.stack([rng.uniform(200, 440, (1, num_frames, num_joints)),
                         rng.uniform(100, 380, (1, num_frames, num_joints))], axis=-1).astype(np.float32)
    sample = dict(keypoint=keypoint, keypoint_score=np.ones((1, num_frames, num_joints), np.float32),
                  img_shape=(height, width), frame_dir='flops_dummy')
    batch = prepare_sample(cfg, sample)
    if 'imgs' not in batch:
        raise ValueError('the test pipeline does not give heatmap volumes ("imgs"; e.g. it ends with '
                         'FormatCompactKeypoints); give the input shape with --shape C T H W')
    return tuple(batch['imgs'].shape[1:])


def model_flops(model, clip_shape: Tuple[int, ...]) -> dict:
    """FLOPs and parameters of one clip [C, T, H, W] through ``model``."""
    import torch
    imgs = torch.zeros((1, 1) + tuple(clip_shape))
    params = sum(p.numel() for p in model.parameters())
    branch = getattr(model, 'text_branch', None)
    if branch is not None:
        video_flops, video_modules = count_flops(lambda: model.encode_video(imgs))
        text_flops, text_modules = count_flops(
            lambda: branch.encode_text(branch.class_input_ids, branch.class_attention_mask))
        text_params = sum(p.numel() for p in branch.parameters())
        return dict(flops_per_clip=video_flops, text_flops_all_sentences=text_flops,
                    num_sentences=branch.num_sentences, params=params, video_params=params - text_params,
                    text_params=text_params, modules={**video_modules, **text_modules})
    flops, modules = count_flops(lambda: model.forward_dummy(imgs))
    return dict(flops_per_clip=flops, params=params, modules=modules)


def plot_modules(modules: Dict[str, int], out_png: str, title: str) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    top = {k: v for k, v in modules.items() if k.count('.') == 1} or modules
    names = list(top)
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(names) + 1.5))
    ax.barh(range(len(names)), [top[n] / 1e9 for n in names])
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel('GFLOPs')
    ax.set_title(title, fontsize=9)
    save_figure(fig, out_png)


def main(argv=None) -> dict:
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=4, metavar=('C', 'T', 'H', 'W'), help='one clip\'s input shape')
    parser.add_argument('--num-joints', type=int, default=17, help='joints of the dummy sample (default 17, COCO)')
    parser.add_argument('--out-dir', help='where flops.json / flops.png go')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, help='override config entries')
    args = parser.parse_args(argv)
    from pyskl.apis.inference import init_recognizer, load_config
    from pyskl.visualization import check_new_files, write_json

    name = osp.splitext(osp.basename(args.config))[0]
    out_dir = args.out_dir or osp.join('work_dirs', 'flops', name)
    outputs = [osp.join(out_dir, 'flops.json'), osp.join(out_dir, 'flops.png')]
    check_new_files(outputs, args.overwrite)
    cfg = load_config(args.config, args.cfg_options)
    if args.shape:
        shape, num_clips = tuple(args.shape), None
    else:
        full = pipeline_input_shape(cfg, args.num_joints)
        shape, num_clips = full[1:], full[0]
    model = init_recognizer(cfg)
    result = dict(config=args.config, input_shape=list(shape), num_clips=num_clips, **model_flops(model, shape))
    if num_clips:
        result['flops_per_sample'] = result['flops_per_clip'] * num_clips
    write_json(outputs[0], result)
    plot_modules(result['modules'], outputs[1], f'{name}: {result["flops_per_clip"] / 1e9:.3f} GFLOPs per clip')
    print(f'input shape per clip: {list(shape)}' + (f' ({num_clips} clips per test sample)' if num_clips else ''))
    print(f'FLOPs per clip: {result["flops_per_clip"] / 1e9:.4f} G; parameters: {result["params"] / 1e6:.3f} M')
    if 'text_flops_all_sentences' in result:
        print(f'text branch: {result["text_flops_all_sentences"] / 1e9:.4f} GFLOPs for all '
              f'{result["num_sentences"]} class sentences; {result["text_params"] / 1e6:.3f} M parameters')
    print(f'written: {outputs[0]}, {outputs[1]}')
    return result


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
