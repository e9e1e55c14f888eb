"""Shared inputs and a training loop for the tests of the text-supervised recognizers."""
from typing import Dict, List

import torch


def clips(batch: int = 4, num_clips: int = 1, seed: int = 0) -> torch.Tensor:
    """Random heatmap-like clips [batch, num_clips, 3, 8, 16, 16], reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, num_clips, 3, 8, 16, 16, generator=gen)


def train_log_vars(model, batch: Dict, optimizer, steps: int) -> List[Dict[str, float]]:
    """Run ``steps`` optimisation steps through ``model.train_step``; return each step's logged values."""
    logs = []
    for _ in range(steps):
        outputs = model.train_step(batch, optimizer)
        optimizer.zero_grad()
        outputs['loss'].backward()
        optimizer.step()
        logs.append(outputs['log_vars'])
    return logs
