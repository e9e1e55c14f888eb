"""Training and validation curves of one or several runs in one figure, read from their JSON logs.

    python tools/analysis/plot_curves.py WORK_DIR [WORK_DIR ...] [--keys loss top1_acc lr] [--out-dir DIR]

Every ``*.log.json`` of a work dir is read (a resumed run has several; for a repeated (mode, epoch, iter) the later
file wins). One panel per key, one line per run and mode (train / val); the x axis is the epoch (training records
sit at ``epoch - 1 + iter / iterations logged in that epoch``). Writes ``curves.png`` and ``curves.csv`` (run,
mode, epoch, iter, x, key, value) to ``--out-dir`` (default: ``<first WORK_DIR>/analysis``).
"""
import argparse
import glob
import json
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402

DEFAULT_KEYS = ('loss', 'top1_acc', 'lr')


def read_log_records(work_dir: str) -> List[dict]:
    """The train / val records of every JSON log of ``work_dir``, in file order, repeated entries replaced."""
    paths = sorted(glob.glob(osp.join(work_dir, '*.log.json')))
    if not paths:
        raise FileNotFoundError(f'{work_dir}: no *.log.json training log; give the work dir of a run '
                                '(tools/train.py writes <work_dir>/<timestamp>.log.json)')
    records: Dict[tuple, dict] = OrderedDict()
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f'{path} line {number} is not JSON ({e}); is it a truncated log?') from e
                if record.get('mode') not in ('train', 'val'):
                    continue
                key = (record['mode'], record.get('epoch'), record.get('iter'))
                records.pop(key, None)
                records[key] = record
    return list(records.values())


def curve_rows(run: str, records: Sequence[dict], keys: Sequence[str]) -> List[tuple]:
    """(run, mode, epoch, iter, x, key, value) for every numeric value of ``keys`` in ``records``."""
    last_iter: Dict[int, int] = {}
    for record in records:
        if record['mode'] == 'train':
            epoch = int(record.get('epoch', 1))
            last_iter[epoch] = max(last_iter.get(epoch, 0), int(record.get('iter', 0)))
    rows = []
    for record in records:
        epoch = int(record.get('epoch', 1))
        it = int(record.get('iter', 0))
        if record['mode'] == 'train':
            x = epoch - 1 + it / max(last_iter.get(epoch, 1), 1)
        else:
            x = float(epoch)
        for key in keys:
            value = record.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                rows.append((run, record['mode'], epoch, it, x, key, float(value)))
    return rows


def run_names(work_dirs: Sequence[str]) -> List[str]:
    """Short distinct names: the last path component, or more of the path where they collide."""
    parts = [osp.normpath(w).split(osp.sep) for w in work_dirs]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ['/'.join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [osp.normpath(w) for w in work_dirs]


def plot_curves(rows: Sequence[tuple], keys: Sequence[str], out_png: str) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        series = OrderedDict()
        for run, mode, _, _, x, k, value in rows:
            if k == key:
                series.setdefault((run, mode), []).append((x, value))
        for (run, mode), points in series.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker='o' if mode == 'val' else None, markersize=3, label=f'{run} ({mode})')
        ax.set_title(key)
        ax.set_xlabel('epoch')
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=7)
        if key == 'lr':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
    fig.tight_layout()
    save_figure(fig, out_png)


def main(argv=None) -> List[tuple]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='+', help='work dirs of the runs')
    parser.add_argument('--keys', nargs='+', default=list(DEFAULT_KEYS), help='logged values to plot')
    parser.add_argument('--out-dir', help='where curves.png / curves.csv go (default: <first WORK_DIR>/analysis)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    args = parser.parse_args(argv)
    from pyskl.visualization import check_new_files, write_csv

    out_dir = args.out_dir or osp.join(args.work_dirs[0], 'analysis')
    out_png, out_csv = osp.join(out_dir, 'curves.png'), osp.join(out_dir, 'curves.csv')
    check_new_files([out_png, out_csv], args.overwrite)
    rows = []
    for name, work_dir in zip(run_names(args.work_dirs), args.work_dirs):
        records = read_log_records(work_dir)
        if not records:
            raise ValueError(f'{work_dir}: the JSON logs hold no train / val records yet')
        rows.extend(curve_rows(name, records, args.keys))
    found = {row[5] for row in rows}
    missing = [key for key in args.keys if key not in found]
    if missing:
        available = sorted({k for w in args.work_dirs for r in read_log_records(w) for k, v in r.items()
                            if isinstance(v, (int, float)) and k not in ('epoch', 'iter')})
        raise KeyError(f'no run logged {missing}; the logs hold {available}')
    plot_curves(rows, args.keys, out_png)
    write_csv(out_csv, ('run', 'mode', 'epoch', 'iter', 'x', 'key', 'value'), rows)
    print(f'curves: {out_png} ({len(rows)} points, numbers in {out_csv})')
    return rows


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
