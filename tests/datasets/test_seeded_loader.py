"""The training loader's order and augmentation come from the seed and the epoch alone."""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pyskl.datasets.builder import SeededSampler, build_dataloader


class RandomDataset(Dataset):
    """Each sample is its index plus numbers drawn from numpy's and torch's global generators."""

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return dict(index=index, np_draw=float(np.random.rand()), torch_draw=float(torch.rand(1)))


def epoch_items(workers, epoch, seed=3):
    loader = build_dataloader(RandomDataset(), videos_per_gpu=3, workers_per_gpu=workers, seed=seed, dist=False,
                              persistent_workers=False)
    loader.sampler.set_epoch(epoch)
    items = []
    for batch in loader:
        items += list(zip(batch['index'].tolist(), batch['np_draw'].tolist(), batch['torch_draw'].tolist()))
    return items


def test_same_seed_and_epoch_same_samples_whatever_the_workers():
    single = epoch_items(workers=0, epoch=1)
    assert sorted(i for i, _, _ in single) == list(range(10))
    assert epoch_items(workers=2, epoch=1) == single
    assert epoch_items(workers=0, epoch=2) != single
    assert epoch_items(workers=0, epoch=1, seed=4) != single


def test_loading_moves_the_global_generators_only_as_a_plain_loader_does():
    np.random.seed(0)
    torch.manual_seed(0)
    epoch_items(workers=0, epoch=0)
    draws = np.random.rand(), torch.rand(1)
    np.random.seed(0)
    torch.manual_seed(0)
    for _ in DataLoader(list(range(10)), batch_size=3):  # draws the loader's base seed from torch, nothing else
        pass
    assert draws[0] == np.random.rand() and torch.equal(draws[1], torch.rand(1))


def test_ranks_split_the_padded_epoch_like_distributed_sampler():
    dataset = list(range(7))
    parts = [list(SeededSampler(dataset, num_replicas=2, rank=r, seed=1)) for r in (0, 1)]
    assert [len(p) for p in parts] == [4, 4]
    whole = [None] * 8
    whole[0::2], whole[1::2] = parts
    assert sorted({i for i, _ in whole}) == dataset  # every sample, one padded repeat
    single = list(SeededSampler(dataset, num_replicas=1, rank=0, seed=1))
    assert whole[:7] == single
    assert [i for i, _ in SeededSampler(dataset, shuffle=False, seed=1)] == dataset
