"""Look at a skeleton clip: keypoints and limbs over time, the heatmap volume the model sees, its top-5 sentences.

    python tools/analysis/visualize.py ANN.pkl --sample FRAME_DIR [--config CONFIG [--checkpoint CKPT]]
                                       [--heatmaps] --out clip.gif|clip.mp4 [--fps 10]

Without ``--heatmaps`` every frame of the sample is drawn (COCO-17 limbs, left side orange, right green; a second
person lighter). ``--heatmaps`` (needs ``--config``) runs the config's test pipeline and shows, next to each sampled
frame, the maximum over the channels of the heatmap volume of the first clip. With ``--checkpoint`` the model's
top-5 classes (their sentences for text recognizers) and scores are written under the frames. GIFs need only
pillow; MP4 needs imageio-ffmpeg (``pip install imageio-ffmpeg``). A JSON file next to the output
(``<out>.json``) holds the frame indices and the top-5.
"""
import argparse
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402

NOT_BEFORE_MODEL = ('Collect', 'ToTensor')


def pipeline_volume(cfg, sample: dict):
    """The heatmap volume [num_clips, K, T, H, W] and the sampled frame indices [num_clips * T] of ``sample``."""
    import copy

    from pyskl.apis.inference import _test_pipeline
    from pyskl.datasets.pipelines import Compose
    steps = [s for s in _test_pipeline(cfg) if s.get('type') not in NOT_BEFORE_MODEL]
    results = copy.deepcopy(dict(sample))
    results.setdefault('total_frames', int(np.asarray(sample['keypoint']).shape[1]))
    results.setdefault('original_shape', tuple(results['img_shape']))
    results.setdefault('label', -1)
    results.update(modality='Pose', start_index=0, test_mode=True)
    results = Compose(steps)(results)
    if 'imgs' not in results or np.asarray(results['imgs']).ndim != 5:
        raise ValueError('--heatmaps: the test pipeline does not draw heatmap volumes (GeneratePoseTarget + '
                         "FormatShape('NCTHW_Heatmap')); the model draws them itself, so there is nothing to show")
    return np.asarray(results['imgs']), np.asarray(results['frame_inds']).reshape(-1)


def fit_to_frame(keypoint: np.ndarray, img_shape=(480, 640), margin: float = 0.08):
    """Joint coordinates without an image (3D skeletons, x right and y up) -> pixels of an ``img_shape`` frame."""
    present = np.any(keypoint != 0, axis=-1)
    if not present.any():
        return keypoint, img_shape
    points = keypoint[present]
    low, high = points.min(axis=0), points.max(axis=0)
    span = float(max((high - low).max(), 1e-6))
    scale = (1 - 2 * margin) * min(img_shape) / span
    centre = (low + high) / 2
    out = np.zeros_like(keypoint)
    out[..., 0] = (keypoint[..., 0] - centre[0]) * scale + img_shape[1] / 2
    out[..., 1] = img_shape[0] / 2 - (keypoint[..., 1] - centre[1]) * scale
    out[~present] = 0
    return out, img_shape


def render(sample: dict, volume=None, frame_inds=None, top=None, width: int = 320, title: str = '') -> list:
    from pyskl.visualization.skeleton import draw_skeleton_frame, heatmap_panel, stack_panels, text_panel
    keypoint = np.asarray(sample['keypoint'], dtype=np.float32)[..., :2]
    score = sample.get('keypoint_score')
    score = None if score is None else np.asarray(score, dtype=np.float32)
    if sample.get('img_shape') is not None:
        img_shape = tuple(int(v) for v in sample['img_shape'])
    else:  # 3D skeletons (no image): fit the x / y extent of the joints into a 480x640 frame, y pointing up
        keypoint, img_shape = fit_to_frame(keypoint)
    total = keypoint.shape[1]
    if volume is None:
        indices = list(range(total))
    else:
        clip_len = volume.shape[2]
        indices = [int(i) % total for i in frame_inds[:clip_len]]
    footer = [title] if title else []
    if top:
        footer += [f'{score_:.3f}  {label}' for label, score_ in top]
    frames = []
    for t, index in enumerate(indices):
        caption = f'frame {index + 1}/{total}'
        panels = [draw_skeleton_frame(keypoint[:, index], None if score is None else score[:, index], img_shape,
                                      width, caption=caption)]
        if volume is not None:
            panels.append(heatmap_panel(volume[0, :, t], panels[0].shape[0]))
        rows = [panels]
        if footer:
            rows.append([text_panel(footer, sum(p.shape[1] for p in panels))])
        frames.append(stack_panels(rows))
    return frames, indices


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='annotation pickle (pyskl format, a list of samples, or one sample)')
    parser.add_argument('--sample', help='frame_dir of the sample (default: the first one)')
    parser.add_argument('--config', help='config (its test pipeline for --heatmaps; the model for --checkpoint)')
    parser.add_argument('--checkpoint', help='checkpoint: write the model\'s top-5 under the frames')
    parser.add_argument('--heatmaps', action='store_true', help='show the heatmap volume the model sees')
    parser.add_argument('--out', required=True, help='output .gif or .mp4')
    parser.add_argument('--fps', type=float, default=10.0)
    parser.add_argument('--width', type=int, default=320, help='width of the skeleton panel in pixels')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    args = parser.parse_args(argv)
    from pyskl.visualization import check_new_files, select_samples, write_json

    if osp.splitext(args.out)[1].lower() not in ('.gif', '.mp4'):
        raise SystemExit(f'--out {args.out}: write a .gif or an .mp4 file')
    if (args.heatmaps or args.checkpoint) and not args.config:
        raise SystemExit('--heatmaps and --checkpoint need --config (the test pipeline and the model)')
    if osp.splitext(args.out)[1].lower() == '.mp4':
        import importlib.util

        from pyskl.visualization.skeleton import MP4_HINT
        if importlib.util.find_spec('imageio_ffmpeg') is None:
            raise SystemExit(f'writing {args.out} (MP4) needs the imageio-ffmpeg package: {MP4_HINT}; or write a '
                             '.gif')
    sidecar = args.out + '.json'
    check_new_files([args.out, sidecar], args.overwrite)
    sample = select_samples(args.ann_file, [args.sample] if args.sample else None)[0]
    top, volume, frame_inds = None, None, None
    if args.checkpoint:
        from pyskl.apis import inference_recognizer, init_recognizer
        from pyskl.apis.inference import class_names_of
        model = init_recognizer(args.config, args.checkpoint)
        names = class_names_of(model)
        top = [(names[label] if names else f'class {label}', score)
               for label, score in inference_recognizer(model, sample, topk=5)]
    if args.heatmaps:
        from pyskl.apis.inference import load_config
        volume, frame_inds = pipeline_volume(load_config(args.config), sample)
    title = str(sample.get('frame_dir', ''))
    if 'label' in sample:
        title += f' (label {int(sample["label"])})'
    frames, indices = render(sample, volume, frame_inds, top, args.width, title)
    from pyskl.visualization.skeleton import write_video
    write_video(args.out, frames, args.fps)
    info = dict(frame_dir=sample.get('frame_dir'), frames=indices, frame_size=list(frames[0].shape[:2]),
                heatmaps=bool(args.heatmaps), top5=[dict(label=label, score=score) for label, score in top or []])
    if volume is not None:
        info['heatmap_shape'] = list(volume.shape)
    write_json(sidecar, info)
    print(f'{args.out}: {len(frames)} frames' + (f'; top-1 {top[0][0]!r} {top[0][1]:.3f}' if top else ''))
    return info


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
