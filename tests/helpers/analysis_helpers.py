"""A tiny trained text recognizer on a tiny synthetic set, shared by the inference and analysis tests."""
from dataclasses import dataclass
from pathlib import Path

import torch
from e2e_utils import make_tiny_dataset, write_tiny_config

TINY_MODEL = """model = dict(
    video_encoder=dict(res_out_channels=64, output_channels=16, base_channels=4, stage_blocks=(1, 1, 1)),
    text_encoder=dict(_delete_=True, type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=32, vocab_size=30524)),
    text_encoder_init=None, embed_dim=8)
"""


@dataclass
class TinyRun:
    config: Path
    ann_file: Path
    checkpoint: Path
    work_dir: Path


def train_tiny_run(root: Path, steps: int = 3) -> TinyRun:
    """Write a tiny synthetic set and config, train ``steps`` iterations in-process, save a full checkpoint
    (``state_dict``, ``optimizer``, ``meta``)."""
    from mmcv import Config
    from mmcv.parallel import collate
    from mmcv.runner import build_optimizer

    from pyskl.datasets import build_dataset
    from pyskl.models import build_model

    root.mkdir(parents=True, exist_ok=True)
    ann = make_tiny_dataset(root / 'tiny.pkl')
    config = write_tiny_config(root / 'tiny_visece.py', ann, base='configs/demo/visece_minilm_synthetic.py',
                               extra=TINY_MODEL)
    cfg = Config.fromfile(str(config))
    torch.manual_seed(0)
    model = build_model(cfg.model)
    dataset = build_dataset(cfg.data.train)
    optimizer = build_optimizer(model, cfg.optimizer)
    model.train()
    for step in range(steps):
        batch = collate([dataset[(step * 4 + i) % len(dataset)] for i in range(4)], samples_per_gpu=4)
        loss = model.train_step(batch, optimizer)['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    work_dir = root / 'work_dir'
    work_dir.mkdir(exist_ok=True)
    checkpoint = work_dir / 'latest.pth'
    torch.save(dict(state_dict=model.state_dict(), optimizer=optimizer.state_dict(),
                    meta=dict(epoch=1, iter=steps, seed=0)), str(checkpoint))
    return TinyRun(config=config, ann_file=ann, checkpoint=checkpoint, work_dir=work_dir)


def load_tool(relpath: str):
    """Import a script under tools/ (e.g. 'analysis/confusion.py') as a module, to call its functions and main()."""
    import importlib.util
    import sys

    from e2e_utils import REPO_ROOT
    tools = str(REPO_ROOT / 'tools')
    if tools not in sys.path:
        sys.path.insert(0, tools)
    path = REPO_ROOT / 'tools' / relpath
    spec = importlib.util.spec_from_file_location('tool_' + relpath.replace('/', '_')[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_png(path: Path):
    """The pixels of a PNG file (checks that it is one)."""
    import numpy as np
    from PIL import Image
    data = Path(path).read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', f'{path} is not a PNG file'
    return np.asarray(Image.open(path))


def shared_tiny_run(tmp_path_factory) -> TinyRun:
    """One tiny trained run per test session: trained by the first module that asks, reused by the others."""
    root = tmp_path_factory.getbasetemp() / 'shared_tiny_run'
    checkpoint = root / 'work_dir' / 'latest.pth'
    if checkpoint.is_file():
        return TinyRun(config=root / 'tiny_visece.py', ann_file=root / 'tiny.pkl', checkpoint=checkpoint,
                       work_dir=root / 'work_dir')
    return train_tiny_run(root)
