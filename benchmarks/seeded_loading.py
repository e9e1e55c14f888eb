"""Cost of the per-sample seeding that makes training resumable bit for bit.

A training loader reads every sample as ``SeededSamples[(index, seed)]``: Python, numpy and torch are seeded before
the pipeline runs and, in the main process (no loader workers), their states are restored afterwards. This prints
the microseconds per sample of that seeding alone (in the main process and as a worker does it), and the samples/s
of the demo training pipeline (``configs/demo/posec3d_synthetic.py`` on a small synthetic set) through a
``DataLoader`` with 0 and with 1 worker, read plainly (a shuffling sampler) and seeded (`build_dataloader` with a
seed), in the same run, with their ratio.

Run: ``python benchmarks/seeded_loading.py [--seconds 3]``.
"""
import argparse
import os.path as osp
import random
import sys
import tempfile
import time

import numpy as np
import torch

try:
    import pyskl  # noqa: F401
except ImportError:  # a checkout that was not installed with pip
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcv import Config  # noqa: E402

from pyskl.datasets import build_dataloader, build_dataset  # noqa: E402
from pyskl.datasets.builder import SeededSamples  # noqa: E402
from pyskl.datasets.synthetic import write_synthetic_dataset  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


class Nothing:
    """A dataset whose samples cost nothing: what remains is the seeding."""

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return index


def rate(read, seconds: float) -> float:
    """Samples per second of ``read(i)`` over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        read(count)
        count += 1
    return count / (time.perf_counter() - start)


def loader_rate(dataset, workers: int, seed, seconds: float) -> float:
    """Samples per second of iterating a training loader (batches of 8) for about ``seconds``."""
    loader = build_dataloader(dataset, videos_per_gpu=8, workers_per_gpu=workers, seed=seed, dist=False,
                              persistent_workers=workers > 0)
    count, start = 0, None
    while start is None or time.perf_counter() - start < seconds:
        for batch in loader:
            if start is None:  # the first batch includes starting the workers
                start = time.perf_counter()
                continue
            count += len(batch['label'])
            if time.perf_counter() - start >= seconds:
                break
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=3.0, help='time per measurement')
    args = parser.parse_args()
    torch.set_num_threads(1)

    wrapped = SeededSamples(Nothing())
    main_process = rate(lambda i: wrapped[(0, i)], args.seconds)
    worker = rate(lambda i: (random.seed(i), np.random.seed(i), torch.default_generator.manual_seed(i)),
                  args.seconds)
    print(f'seeding per sample: {1e6 / main_process:.1f} us in the main process (with the restore), '
          f'{1e6 / worker:.1f} us in a worker')

    with tempfile.TemporaryDirectory() as tmp:
        ann = osp.join(tmp, 'synthetic.pkl')
        write_synthetic_dataset(ann, num_train_per_class=4, num_val_per_class=1, seed=0)
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/demo/posec3d_synthetic.py'))
        cfg.data.train.ann_file = ann
        dataset = build_dataset(cfg.data.train)
        for workers in (0, 1):
            plain = loader_rate(dataset, workers, None, args.seconds)
            seeded = loader_rate(dataset, workers, 0, args.seconds)
            print(f'demo training pipeline, {workers} workers: plain {plain:.1f} samples/s, seeded {seeded:.1f} '
                  f'samples/s (ratio seeded / plain {seeded / plain:.3f})')


if __name__ == '__main__':
    main()
