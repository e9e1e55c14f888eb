"""The main job on the embedded default: generate the synthetic set, train, evaluate, print the accuracy.

    python tools/demo.py [--config configs/demo/<model>.py] [--seed 0]

Everything runs offline on the CPU (or on a GPU when there is one). Re-running resumes / re-tests the same work dir.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = 'configs/demo/visece_minilm_synthetic.py'
FALLBACK_CONFIG = 'configs/demo/posec3d_synthetic.py'
DATA = 'data/synthetic/synthetic.pkl'


def run(cmd: list) -> str:
    print('+', ' '.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout[-4000:])
    if proc.returncode != 0:
        raise SystemExit(f'command failed with exit code {proc.returncode}: {" ".join(cmd)}')
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=None, help=f'demo config (default: {DEFAULT_CONFIG})')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    config = args.config or (DEFAULT_CONFIG if osp.exists(osp.join(REPO_ROOT, DEFAULT_CONFIG)) else FALLBACK_CONFIG)
    name = osp.splitext(osp.basename(config))[0]
    work_dir = osp.join('work_dirs', 'demo', name)
    start = time.time()
    if not osp.exists(osp.join(REPO_ROOT, DATA)):
        run([sys.executable, 'tools/data/generate_synthetic.py', '--out', DATA])
    run([sys.executable, 'tools/train.py', config, '--validate', '--seed', str(args.seed), '--work-dir', work_dir])
    train_time = time.time() - start
    out = run([sys.executable, 'tools/test.py', config, '-C', osp.join(work_dir, 'latest.pth'), '--eval',
               'top_k_accuracy', 'mean_class_accuracy'])
    metrics = json.loads([line for line in out.splitlines() if line.startswith('{')][-1])
    total = time.time() - start
    others = ', '.join(f'{key} {value:.4f}' for key, value in metrics.items() if key not in ('checkpoint', 'top1_acc'))
    print(f'\n{name}: val top-1 {metrics["top1_acc"]:.4f} ({others}); '
          f'wall time {total:.0f} s (training {train_time:.0f} s) on {os.cpu_count()} CPU cores')


if __name__ == '__main__':
    main()
