"""Samples/s per data-loader worker of the NTU60 PoseC3D pipelines, step by step.

For the training and the test pipeline of ``configs/posec3d/slowonly_r50_ntu60_xsub/joint.py`` it prints the time
of every step per sample, its share, and the samples/s of one worker before the heatmap step and after it (the
whole pipeline), with the vectorised ``GeneratePoseTarget`` and with the per-point reference in its place. The
last lines of each table are the hand-over of the sample to the main process (``share_memory_``, what a
``DataLoader`` worker does with every tensor it returns) and the release of its memory. The same is printed for
the device-heatmap variant (``joint_device_heatmap.py``), whose pipeline ends at compact keypoints.

The annotations are synthetic and NTU-like: 2 people, 1080x1920 frames, 60 to 150 frames per video.

Run: ``python benchmarks/pipeline.py [--seconds 3]``.
"""
import argparse
import copy
import os.path as osp
import sys
import time
from collections import OrderedDict

import numpy as np
import torch

try:
    import pyskl  # noqa: F401
except ImportError:  # a checkout that was not installed with pip
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcv import Config  # noqa: E402

from pyskl.datasets.pipelines import Compose, GeneratePoseTarget  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from heatmaps import reference_pose_target, skeleton_sequence  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = OrderedDict(cpu='configs/posec3d/slowonly_r50_ntu60_xsub/joint.py',
                      device='configs/posec3d/slowonly_r50_ntu60_xsub/joint_device_heatmap.py')


SPEC_ARGS = ('sigma', 'use_score', 'with_kp', 'with_limb', 'skeletons', 'double', 'left_kp', 'right_kp', 'left_limb',
             'right_limb', 'scaling')


class PerPointPoseTarget(GeneratePoseTarget):
    """`GeneratePoseTarget` computed by the per-point reference (the algorithm of pyskl)."""

    def __call__(self, results: dict) -> dict:
        results['imgs'] = reference_pose_target(results, **{key: getattr(self, key) for key in SPEC_ARGS})
        return results


def ntu_like_annotations(num: int, seed: int = 0) -> list:
    rng = np.random.RandomState(seed)
    annotations = []
    for index in range(num):
        total_frames = int(rng.randint(60, 151))
        kps, scores = skeleton_sequence(rng, 2, total_frames, (1080, 1920), body_height=rng.uniform(500, 800))
        annotations.append(dict(frame_dir=f'S001C001P001R001A{index:03d}', label=index % 60, img_shape=(1080, 1920),
                                original_shape=(1080, 1920), total_frames=total_frames, keypoint=kps,
                                keypoint_score=scores))
    return annotations


def run_steps(steps: list, annotations: list, test_mode: bool, seconds: float) -> OrderedDict:
    """Mean seconds per sample of every step, of copying the annotation, handing the tensors over and freeing them."""
    totals = OrderedDict(copy_annotation=0.)
    for step in steps:
        totals[type(step).__name__] = 0.
    totals['share_memory_ (hand-over)'] = 0.
    totals['release the sample'] = 0.
    count, start = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - start < seconds:
        ann = annotations[count % len(annotations)]
        tic = time.perf_counter()
        results = copy.deepcopy(ann)
        results.update(start_index=0, modality='Pose', test_mode=test_mode)
        totals['copy_annotation'] += time.perf_counter() - tic
        for step in steps:
            tic = time.perf_counter()
            results = step(results)
            totals[type(step).__name__] += time.perf_counter() - tic
        tic = time.perf_counter()
        for value in results.values():
            if isinstance(value, torch.Tensor):
                value.share_memory_()
        totals['share_memory_ (hand-over)'] += time.perf_counter() - tic
        tic = time.perf_counter()
        del results
        totals['release the sample'] += time.perf_counter() - tic
        count += 1
    return OrderedDict((name, total / count) for name, total in totals.items())


def report(title: str, times: OrderedDict, sample: dict) -> None:
    total = sum(times.values())
    print(f'\n{title}')
    print(f'  {"step":32s} {"ms/sample":>10s} {"share":>7s} {"samples/s up to here":>21s}')
    elapsed = 0.
    for name, seconds in times.items():
        elapsed += seconds
        print(f'  {name:32s} {seconds * 1e3:10.2f} {seconds / total:7.1%} {1 / elapsed:21.1f}')
    nbytes = sum(v.numel() * v.element_size() for v in sample.values() if isinstance(v, torch.Tensor))
    print(f'  whole pipeline: {1 / total:.1f} samples/s per worker; {nbytes / 2**20:.2f} MiB of tensors per sample')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=3., help='minimum time of every measurement')
    args = parser.parse_args()
    torch.set_num_threads(1)  # like a DataLoader worker
    annotations = ntu_like_annotations(8)
    print('one process, one thread (a data-loader worker); synthetic NTU-like videos, 2 people, 1080x1920')
    summary = []
    for split, cfg_split, test_mode in (('train', 'train', False), ('test', 'test', True)):
        for variant, path in CONFIGS.items():
            data_cfg = Config.fromfile(osp.join(REPO_ROOT, path)).data[cfg_split]
            while data_cfg.get('type') == 'RepeatDataset':
                data_cfg = data_cfg['dataset']
            steps = Compose(copy.deepcopy(data_cfg['pipeline'])).transforms
            np.random.seed(0)
            sample = Compose(steps)(dict(copy.deepcopy(annotations[0]), start_index=0, modality='Pose',
                                         test_mode=test_mode))
            times = run_steps(steps, annotations, test_mode, args.seconds)
            report(f'[{split}] {path}', times, sample)
            names = list(times)
            if variant == 'cpu':
                heat = names.index('GeneratePoseTarget')
                before = sum(list(times.values())[:heat])
                summary.append((split, 'before the heatmap step', 1 / before))
                summary.append((split, 'whole pipeline, vectorised heatmaps', 1 / sum(times.values())))
                reference_steps = [PerPointPoseTarget(**{k: getattr(s, k) for k in SPEC_ARGS})
                                   if isinstance(s, GeneratePoseTarget) else s for s in steps]
                ref_times = run_steps(reference_steps, annotations, test_mode, args.seconds)
                report(f'[{split}] {path} with the per-point reference heatmaps', ref_times, sample)
                summary.append((split, 'whole pipeline, per-point reference heatmaps', 1 / sum(ref_times.values())))
            else:
                summary.append((split, 'whole pipeline, device heatmaps (compact keypoints)', 1 / sum(times.values())))
    print('\nsummary (samples/s per worker)')
    for split, what, rate in summary:
        print(f'  {split:5s} {what:52s} {rate:8.1f}')


if __name__ == '__main__':
    main()
