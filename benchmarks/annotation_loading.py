"""Loading time of an annotation pickle: plain ``pickle.load`` against the restricted unpickler.

It writes NTU-like annotations (2 people, 17 joints, 2D keypoints and scores as float32, pyskl's format) to a
temporary folder, then prints the best of ``--repeats`` load times of

- plain ``pickle.load`` (what pyskl does; it runs any code a file names),
- `pyskl.utils.safe_pickle.safe_load` (the restricted unpickler that `PoseDataset` uses) and its ratio to plain,
- the whole ``PoseDataset(ann_file, None)`` build (restricted load plus the checks of every sample), for scale.

Two files are timed: one of long clips (the arrays dominate) and one of many short clips (the per-object work of
the unpickler dominates, which is where a Python-level hook would show).

Run: ``python benchmarks/annotation_loading.py [--samples 2000] [--frames 100] [--repeats 5]``.
"""
import argparse
import gc
import logging
import os
import os.path as osp
import pickle
import sys
import tempfile
import time
from typing import Callable, List, Sequence

import numpy as np

try:
    import pyskl  # noqa: F401
except ImportError:  # a checkout that was not installed with pip
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from pyskl.datasets.pose_dataset import PoseDataset  # noqa: E402
from pyskl.utils.safe_pickle import safe_load  # noqa: E402


def write_annotations(path: str, num_samples: int, num_frames: int, seed: int = 0) -> int:
    """Write ``num_samples`` NTU-like clips of ``num_frames`` frames to ``path``; return the file size in bytes."""
    rng = np.random.default_rng(seed)
    annotations = []
    for i in range(num_samples):
        frames = int(rng.integers(num_frames // 2, num_frames + 1))
        annotations.append(dict(
            frame_dir=f'S{i // 1000:03d}C001P001R001A{i % 1000:03d}', label=int(rng.integers(60)),
            total_frames=frames, img_shape=(1080, 1920), original_shape=(1080, 1920),
            keypoint=(rng.random((2, frames, 17, 2), dtype=np.float32) * 1000),
            keypoint_score=rng.random((2, frames, 17), dtype=np.float32)))
    split = dict(xsub_train=[a['frame_dir'] for a in annotations])
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f, protocol=pickle.HIGHEST_PROTOCOL)
    return os.path.getsize(path)


def best_times(fns: Sequence[Callable[[str], object]], path: str, repeats: int) -> List[float]:
    """Best wall time of each function over ``repeats`` rounds; the functions take turns within a round, so a
    change of the machine's load hits all of them alike."""
    best = [float('inf')] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            gc.collect()
            gc.disable()  # as timeit does: the collector's passes over the new objects would add noise
            start = time.perf_counter()
            fn(path)
            best[i] = min(best[i], time.perf_counter() - start)
            gc.enable()
    return best


def plain_load(path: str):
    with open(path, 'rb') as f:
        return pickle.load(f)


def restricted_load(path: str):
    with open(path, 'rb') as f:
        return safe_load(f)


def build_dataset(path: str):
    return PoseDataset(path, None, split='xsub_train')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=2000, help='clips in the file of long clips')
    parser.add_argument('--frames', type=int, default=100, help='maximum frames per long clip')
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    logging.getLogger('pyskl').setLevel(logging.WARNING)

    cases = [('long clips', args.samples, args.frames), ('short clips', args.samples * 10, 4)]
    print(f'{"file":<12} {"samples":>8} {"MiB":>7} {"plain s":>8} {"restricted s":>13} {"ratio":>6} '
          f'{"PoseDataset s":>14}')
    with tempfile.TemporaryDirectory() as tmp:
        for name, samples, frames in cases:
            path = osp.join(tmp, f'{name.replace(" ", "_")}.pkl')
            size = write_annotations(path, samples, frames)
            plain_load(path)  # warm the page cache once for all candidates
            plain, restricted, dataset = best_times([plain_load, restricted_load, build_dataset], path, args.repeats)
            print(f'{name:<12} {samples:>8} {size / 2**20:>7.1f} {plain:>8.3f} {restricted:>13.3f} '
                  f'{restricted / plain:>6.2f} {dataset:>14.3f}')


if __name__ == '__main__':
    main()
