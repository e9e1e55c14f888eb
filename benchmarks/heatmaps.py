"""Throughput of heatmap generation: the per-point reference against the vectorised `GeneratePoseTarget`.

For the standard training shape (1 clip x 48 frames, 2 people, 17 joints, 56x56) and the standard test shape
(10 clips x 48 frames, 2 people, 64x64, ``double``) it prints samples/s of

- the per-point reference (``tests/helpers/heatmap_reference.py``: one `draw_point` per frame, person and joint,
  then the mirrored copy concatenated: the algorithm of pyskl),
- the vectorised `GeneratePoseTarget` (one process, one thread) and its speed-up,
- the memory-write bandwidth of this machine, measured here by filling arrays of the output's size (freshly
  allocated, as a pipeline step must, and pre-allocated), and the fraction of it that the vectorised step reaches,
- the torch `HeatmapGenerator` (device-side option) on the CPU, and with ``--device cuda`` on the GPU.

Run: ``python benchmarks/heatmaps.py [--device cuda] [--seconds 2]``.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Callable, Dict, Tuple

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
try:
    import pyskl  # noqa: F401
except ImportError:  # a checkout that was not installed with pip
    sys.path.insert(0, REPO_ROOT)
# the per-point reference lives with the tests
sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'helpers'))

from heatmap_reference import reference_pose_target  # noqa: E402

from pyskl.datasets.pipelines import FormatCompactKeypoints, GeneratePoseTarget  # noqa: E402
from pyskl.models.common import HeatmapGenerator  # noqa: E402

# COCO-17 joints of a person facing the camera, in units of body height (x to the image right, y down, origin
# between the hips); the person's left side appears on the right of the image.
BODY = np.array([[0, -.45], [.03, -.47], [-.03, -.47], [.06, -.45], [-.06, -.45], [.12, -.32], [-.12, -.32],
                 [.17, -.15], [-.17, -.15], [.19, 0], [-.19, 0], [.08, 0], [-.08, 0], [.09, .25], [-.09, .25],
                 [.09, .48], [-.09, .48]], np.float32)

SHAPES = {
    'train': dict(num_clips=1, clip_len=48, img_shape=(56, 56), num_people=2, args=dict()),
    'test': dict(num_clips=10, clip_len=48, img_shape=(64, 64), num_people=2,
                 args=dict(double=True, left_kp=(1, 3, 5, 7, 9, 11, 13, 15), right_kp=(2, 4, 6, 8, 10, 12, 14, 16))),
}


def skeleton_sequence(rng: np.random.RandomState, num_people: int, num_frames: int,
                      img_shape: Tuple[int, int], body_height: float) -> Tuple[np.ndarray, np.ndarray]:
    """Moving stick figures: keypoints ``[M, T, 17, 2]`` (pixels) and scores ``[M, T, 17]`` (a few missing joints)."""
    height, width = img_shape
    t = np.arange(num_frames, dtype=np.float32)[:, None]
    kps, scores = [], []
    for _ in range(num_people):
        centre = np.array([rng.uniform(0.3, 0.7) * width, rng.uniform(0.45, 0.55) * height], np.float32)
        swing = 0.08 * np.sin(2 * np.pi * t / rng.uniform(15, 40) + rng.uniform(0, 6.3, 17))  # [T, 17]
        person = BODY[None] + np.stack([swing, 0.5 * swing], axis=-1)
        person = person * body_height + centre + rng.normal(0, 0.01 * body_height, (num_frames, 17, 2))
        kps.append(person)
        score = rng.uniform(0.3, 1., (num_frames, 17))
        score[rng.uniform(size=score.shape) < 0.03] = 0
        scores.append(score)
    return np.asarray(kps, np.float32), np.asarray(scores, np.float32)


def timed(fn: Callable[[], object], seconds: float, min_runs: int = 3) -> float:
    """Seconds per call of ``fn`` (after one warm-up call), over at least ``min_runs`` calls and ``seconds``."""
    fn()
    runs, start = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if runs >= min_runs and elapsed >= seconds:
            return elapsed / runs


def fill_bandwidth(shape: Tuple[int, ...], seconds: float) -> Tuple[float, float]:
    """Bytes/s of writing an array of ``shape`` (float32): freshly allocated each time, and pre-allocated."""
    nbytes = int(np.prod(shape)) * 4
    fresh = timed(lambda: np.full(shape, 1., np.float32), seconds)
    buffer = np.empty(shape, np.float32)
    reused = timed(lambda: buffer.fill(1.), seconds)
    return nbytes / fresh, nbytes / reused


def torch_rate(generator: HeatmapGenerator, inputs: Dict[str, torch.Tensor], batch: int, device: str,
               seconds: float) -> Tuple[float, torch.Tensor]:
    """Samples/s of the torch generator on ``device`` for a batch of ``batch`` copies of one sample."""
    keypoint = inputs['keypoint'][None].expand((batch, ) + tuple(inputs['keypoint'].shape)).to(device)
    score = inputs['keypoint_score'][None].expand((batch, ) + tuple(inputs['keypoint_score'].shape)).to(device)
    img_shape = inputs['img_shape'].to(device)

    def run():
        out = generator(keypoint, score, img_shape)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        return out

    seconds_per_batch = timed(run, seconds)
    return batch / seconds_per_batch, run()[0]


def bench_shape(name: str, spec: dict, seconds: float, device: str, rng: np.random.RandomState) -> None:
    num_clips, clip_len, img_shape = spec['num_clips'], spec['clip_len'], spec['img_shape']
    kps, scores = skeleton_sequence(rng, spec['num_people'], num_clips * clip_len, img_shape, 0.8 * img_shape[0])
    results = dict(keypoint=kps, keypoint_score=scores, img_shape=img_shape, num_clips=num_clips, clip_len=clip_len)
    step = GeneratePoseTarget(**spec['args'])
    ours = step(dict(results))['imgs']
    reference = reference_pose_target(results, **spec['args'])
    error = float(np.abs(ours - reference).max())
    nbytes = ours.nbytes
    print(f'\n[{name}] {num_clips} clip(s) x {clip_len} frames, {spec["num_people"]} people, 17 joints, '
          f'{img_shape[0]}x{img_shape[1]}{", double" if step.double else ""}: output {tuple(ours.shape)} float32 = '
          f'{nbytes / 2**20:.1f} MiB per sample; max |ours - reference| = {error:.1e}')

    ref_rate = 1 / timed(lambda: reference_pose_target(results, **spec['args']), seconds)
    our_rate = 1 / timed(lambda: step(dict(results)), seconds)
    fresh_bw, reused_bw = fill_bandwidth(ours.shape, seconds / 2)
    print(f'  per-point reference          {ref_rate:9.1f} samples/s')
    print(f'  vectorised GeneratePoseTarget {our_rate:8.1f} samples/s   {our_rate / ref_rate:5.1f}x the reference')
    print(f'  memory write bandwidth: {fresh_bw / 1e9:.2f} GB/s filling a fresh array of the output size, '
          f'{reused_bw / 1e9:.2f} GB/s filling a pre-allocated one')
    print(f'  vectorised output rate {our_rate * nbytes / 1e9:.2f} GB/s = {our_rate * nbytes / fresh_bw:.0%} of the '
          f'fresh-array fill ({our_rate * nbytes / reused_bw:.0%} of the pre-allocated fill)')

    inputs = {key: torch.as_tensor(np.asarray(value)) for key, value in
              FormatCompactKeypoints(max_people=spec['num_people'])(dict(results)).items()
              if key in ('keypoint', 'keypoint_score', 'img_shape')}
    generator = HeatmapGenerator(**spec['args'])
    cpu_batch = 4 if name == 'train' else 1
    with torch.no_grad():
        rate, volume = torch_rate(generator, inputs, cpu_batch, 'cpu', seconds)
    cpu_error = float(np.abs(volume.numpy() - _formatted(ours, num_clips, clip_len)).max())
    print(f'  torch HeatmapGenerator, cpu ({torch.get_num_threads()} threads, batch {cpu_batch}) {rate:8.1f} '
          f'samples/s   max |torch - numpy| = {cpu_error:.1e}')
    if device != 'cpu':
        gpu_batch = 16 if name == 'train' else 8
        with torch.no_grad():
            rate, volume = torch_rate(generator.to(device), inputs, gpu_batch, device, seconds)
        gpu_error = float(np.abs(volume.cpu().numpy() - _formatted(ours, num_clips, clip_len)).max())
        print(f'  torch HeatmapGenerator, {device} ({torch.cuda.get_device_name(device)}, batch {gpu_batch}) '
              f'{rate:8.1f} samples/s   {rate / ref_rate:.0f}x the reference   max |gpu - numpy| = {gpu_error:.1e}')


def _formatted(heatmaps: np.ndarray, num_clips: int, clip_len: int) -> np.ndarray:
    """[N * clips * T, C, H, W] -> [N * clips, C, T, H, W], as FormatShape('NCTHW_Heatmap') does."""
    volume = heatmaps.reshape((-1, num_clips, clip_len) + heatmaps.shape[1:]).transpose(0, 1, 3, 2, 4, 5)
    return volume.reshape((-1, ) + volume.shape[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', help="also time the torch generator there, e.g. 'cuda'")
    parser.add_argument('--seconds', type=float, default=2., help='minimum time of every measurement')
    parser.add_argument('--shapes', nargs='+', default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (1, like a data-loader worker; numpy steps use one thread)')
    args = parser.parse_args()
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('--device cuda: torch sees no CUDA device')
    torch.set_num_threads(args.threads)
    print(f'numpy {np.__version__}, torch {torch.__version__}; one process; numpy steps are single-threaded')
    rng = np.random.RandomState(0)
    for name in args.shapes:
        bench_shape(name, SHAPES[name], args.seconds, args.device, rng)


if __name__ == '__main__':
    main()
