"""The main job on the embedded default: generate the synthetic set, train, evaluate, plot, print the accuracy.

    python tools/demo.py [--config configs/demo/<model>.py] [--seed 0]

Everything runs offline on the CPU (or on a GPU when there is one). The training log is shown as it is written.
At the end the demo draws the training curves and the confusion matrix of the test scores (tools/analysis) into
``<work_dir>/analysis``. Re-running resumes / re-tests the same work dir.
"""
import argparse
import collections
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = 'configs/demo/visece_minilm_synthetic.py'
DATA = 'data/synthetic/synthetic.pkl'


def run(cmd: list, keep: int = 200) -> str:
    """Run ``cmd`` from the repository root, echoing its output line by line as it comes; return the last lines."""
    print('+', ' '.join(cmd), flush=True)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    tail = collections.deque(maxlen=keep)
    with subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1, env=env) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line)
        code = proc.wait()
    if code != 0:
        raise SystemExit(f'command failed with exit code {code}: {" ".join(cmd)}')
    return ''.join(tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG, help=f'demo config (default: {DEFAULT_CONFIG})')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    config = args.config
    name = osp.splitext(osp.basename(config))[0]
    work_dir = osp.join('work_dirs', 'demo', name)
    analysis_dir = osp.join(work_dir, 'analysis')
    scores = osp.join(work_dir, f'scores_{time.strftime("%Y%m%d_%H%M%S")}.pkl')
    start = time.time()
    if not osp.exists(osp.join(REPO_ROOT, DATA)):
        run([sys.executable, 'tools/data/generate_synthetic.py', '--out', DATA])
    run([sys.executable, 'tools/train.py', config, '--validate', '--seed', str(args.seed), '--work-dir', work_dir])
    train_time = time.time() - start
    out = run([sys.executable, 'tools/test.py', config, '-C', osp.join(work_dir, 'latest.pth'), '--eval',
               'top_k_accuracy', 'mean_class_accuracy', '--out', scores])
    metrics = json.loads([line for line in out.splitlines() if line.startswith('{')][-1])
    total = time.time() - start
    # the plots are derived from the logs and the scores just written, so they are redrawn on every run
    run([sys.executable, 'tools/analysis/plot_curves.py', work_dir, '--keys', 'loss', 'top1_acc', 'lr', '--out-dir',
         analysis_dir, '--overwrite'])
    run([sys.executable, 'tools/analysis/confusion.py', config, scores, '--out-dir', analysis_dir, '--overwrite'])
    others = ', '.join(f'{key} {value:.4f}' for key, value in metrics.items() if key not in ('checkpoint', 'top1_acc'))
    print(f'\nplots: {osp.join(analysis_dir, "curves.png")}, {osp.join(analysis_dir, "confusion.png")} '
          f'(numbers next to them as .csv / .json; test scores in {scores})')
    print(f'{name}: val top-1 {metrics["top1_acc"]:.4f} ({others}); '
          f'wall time {total:.0f} s (training {train_time:.0f} s) on {os.cpu_count()} CPU cores')


if __name__ == '__main__':
    main()
