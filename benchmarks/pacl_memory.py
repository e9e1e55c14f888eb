"""Memory of PACL's per-class frame pooling (FrameTextAlignment), forward + backward, for L class sentences.

    python benchmarks/pacl_memory.py [--batch 16] [--frames 12] [--dim 256] [--classes 60 120] [--device cpu|cuda]

For each L it prints, for the batched einsum pooling and for a broadcast version that materialises the
[B, L, T, D] product (the straightforward way to write it):

- saved: bytes autograd keeps for the backward pass (distinct storages, inputs excluded), measured with
  ``torch.autograd.graph.saved_tensors_hooks``;
- allocated: bytes of all new tensors the forward and backward ops create (a dispatch-mode count of every op
  output: a total over the step, not a peak), and the largest of them; the CPU peak lies between saved + largest
  and allocated;
- on CUDA, the peak of ``torch.cuda.max_memory_allocated`` above the inputs.

The figures hold for one step of a batch of B clips (e.g. 16 per GPU) with T frames after the video encoder's
temporal stride (48 input frames give 24 with PoseC3D's strides, 12 with one more stride of 2) and D = embed_dim.
"""
import argparse
import os.path as osp
import sys
from typing import Callable, Dict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils._pytree import tree_flatten  # noqa: E402

from pyskl.models.common import FrameTextAlignment  # noqa: E402

MIB = 2.0**20


class AllocationCounter(TorchDispatchMode):
    """Adds up the bytes of the storages that the dispatched ops create (outputs that alias an input are views)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self.largest = 0

    @staticmethod
    def _storages(tree) -> Dict[int, int]:
        return {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tree_flatten(tree)[0]
                if isinstance(t, torch.Tensor) and t.device.type != 'meta'}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = self._storages((args, kwargs))
        out = func(*args, **kwargs)
        for ptr, nbytes in self._storages(out).items():
            if ptr not in inputs:
                self.total += nbytes
                self.largest = max(self.largest, nbytes)
        return out


def broadcast_scores(frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """The same scores as FrameTextAlignment('softmax', 'raw') through [B, L, T, D] broadcast products."""
    unit_frames, unit_text = F.normalize(frames, dim=-1), F.normalize(text, dim=-1)
    similarity = (unit_frames[:, None] * unit_text[None, :, None]).sum(dim=-1)  # [B, L, T]
    weights = F.softmax(similarity, dim=-1)
    pooled = F.normalize((weights[..., None] * frames[:, None]).sum(dim=2), dim=-1)  # [B, L, D]
    return (pooled * unit_text[None]).sum(dim=-1)


def measure(fn: Callable, batch: int, frames: int, dim: int, classes: int, device: torch.device) -> Dict[str, float]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, frames, dim, generator=gen).to(device).requires_grad_()
    text = torch.randn(classes, dim, generator=gen).to(device).requires_grad_()
    inputs = {x.untyped_storage().data_ptr(), text.untyped_storage().data_ptr()}
    saved = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        ptr = tensor.untyped_storage().data_ptr()
        if ptr not in inputs:
            saved[ptr] = tensor.untyped_storage().nbytes()
        return tensor

    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    counter = AllocationCounter()
    with counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        scores = fn(x, text)
        scores.sum().backward()
    result = dict(saved=sum(saved.values()) / MIB, allocated=counter.total / MIB, largest=counter.largest / MIB)
    if cuda:
        torch.cuda.synchronize()
        result['cuda_peak'] = (torch.cuda.max_memory_allocated(device) - base) / MIB
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--frames', type=int, default=12)
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument('--classes', type=int, nargs='+', default=[60, 120])
    parser.add_argument('--device', default=None)
    args = parser.parse_args()
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))

    align = FrameTextAlignment('softmax', 'raw')
    x = torch.randn(2, args.frames, args.dim)
    text = torch.randn(5, args.dim)
    assert torch.allclose(align(x, text), broadcast_scores(x, text), atol=1e-5)

    print(f'PACL pooling forward + backward, B={args.batch}, T={args.frames}, D={args.dim}, float32, {device}')
    header = f'{"L":>5} {"implementation":<16} {"saved MiB":>10} {"allocated MiB":>14} {"largest MiB":>12}'
    if device.type == 'cuda':
        header += f' {"CUDA peak MiB":>14}'
    print(header)
    for classes in args.classes:
        blt = args.batch * classes * args.frames
        bld = args.batch * classes * args.dim
        for name, fn in (('einsum', align), ('broadcast', broadcast_scores)):
            res = measure(fn, args.batch, args.frames, args.dim, classes, device)
            line = f'{classes:>5} {name:<16} {res["saved"]:>10.2f} {res["allocated"]:>14.2f} {res["largest"]:>12.2f}'
            if 'cuda_peak' in res:
                line += f' {res["cuda_peak"]:>14.2f}'
            print(line)
        print(f'{"":>5} sizes: [B, L, T] = {blt:,} floats ({blt * 4 / MIB:.2f} MiB), [B, L, D] = {bld:,} floats '
              f'({bld * 4 / MIB:.2f} MiB), [B, L, T, D] = {blt * args.dim:,} floats '
              f'({blt * args.dim * 4 / MIB:.2f} MiB)')


if __name__ == '__main__':
    main()
