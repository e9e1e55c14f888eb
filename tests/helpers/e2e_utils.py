"""Helpers for the end-to-end tests that run the real command-line tools on a tiny synthetic set."""
import json
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def make_tiny_dataset(path: Path, train_per_class: int = 2, val_per_class: int = 1) -> Path:
    from pyskl.datasets.synthetic import write_synthetic_dataset
    write_synthetic_dataset(str(path), num_train_per_class=train_per_class, num_val_per_class=val_per_class,
                            seed=1, min_frames=12, max_frames=24)
    return path


def write_tiny_config(path: Path, ann_file: Path, base: str = 'configs/demo/posec3d_synthetic.py',
                      extra: str = '') -> Path:
    """A config on top of a demo config with a tiny backbone, one-epoch schedule and the given pickle."""
    base_path = REPO_ROOT / base
    path.write_text(f"""_base_ = [{str(base_path)!r}]
ann_file = {str(ann_file)!r}
clip_len = 8
data = dict(
    videos_per_gpu=4,
    workers_per_gpu=0,
    test_dataloader=dict(videos_per_gpu=3),
    train=dict(ann_file=ann_file),
    val=dict(ann_file=ann_file),
    test=dict(ann_file=ann_file))
total_epochs = 2
evaluation = dict(interval=1)
checkpoint_config = dict(interval=1)
log_config = dict(interval=1)
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0)
{extra}
""")
    return path


def tool_env() -> dict:
    env = dict(os.environ)
    env['PYTHONPATH'] = str(REPO_ROOT) + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['HF_HUB_OFFLINE'] = '1'
    env['PYTHON'] = sys.executable
    return env


def run_tool(args: list, cwd: Path, timeout: int = 600) -> str:
    proc = subprocess.run(args, cwd=str(cwd), env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f'{" ".join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout[-6000:]}'
    return proc.stdout


def read_json_log(work_dir: Path) -> list:
    logs = sorted(work_dir.glob('*.log.json'))
    assert logs, f'no json log in {work_dir}'
    records = []
    for log in logs:
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'mode' in record:
                records.append(record)
    return records


def last_json_line(output: str) -> dict:
    return json.loads([line for line in output.splitlines() if line.startswith('{')][-1])


def python_tool(name: str) -> list:
    return [sys.executable, osp.join(str(REPO_ROOT), 'tools', name)]
