"""Tabulate the results of existing work dirs: one row per run, and mean +- std over groups of runs.

    python tools/analysis/collect_results.py WORK_DIR... [--by KEY ...] [--format md|csv] [--out FILE]

A WORK_DIR is a ``tools/train.py`` work dir (it holds ``*.log.json``); any other directory (a sweep dir of
``tools/sweep.py``, ``work_dirs/``) is searched below for work dirs. Each run's row has its settings, seed, status,
best top-1 with the top-5 and mean-class accuracy of that epoch, the epoch of the best, the last validated top-1,
top-5 and mean-class accuracy, and the wall time. The table is the one ``tools/sweep.py`` writes (same code,
:mod:`pyskl.utils.results`).

Settings: the keys of the sweep for runs of ``tools/sweep.py``; for other runs, the config keys in which the given
runs differ (when there are at most 10 of them); ``--by KEY ...`` names them (dotted config keys, e.g.
``optimizer.lr``; ``seed`` works too) and groups the runs by them for the mean +- std table. Without ``--by``
the runs are averaged over seeds, and over data splits when a setting is a ``split`` or ``ann_file`` key.

Configs are read as data: the config text recorded in each JSON log (or a ``*.py`` config dump in the work dir) is
parsed with :mod:`ast`, never executed -- reading work dirs of others is safe. A run counts as finished when its
log reached the configured last epoch and that epoch was validated or checkpointed (for sweep runs: and its last
attempt exited 0); only finished runs enter the means.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: F401,E402

from pyskl.utils.results import (  # noqa: E402
    ResultsError,
    default_setting_keys,
    find_work_dirs,
    read_run,
    summary_tables,
    to_csv,
    to_markdown,
    write_atomic,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Tabulate the results of training work dirs (mean +- std by keys).')
    p.add_argument('work_dirs', nargs='+', help='work dirs, or directories holding work dirs (e.g. a sweep dir)')
    p.add_argument('--by', nargs='+', default=None, metavar='KEY',
                   help='config keys to group by (e.g. optimizer.lr); mean +- std over the other runs of a group')
    p.add_argument('--format', choices=['md', 'csv'], default='md', help='Markdown (default) or CSV')
    p.add_argument('--out', help='write the table to this file instead of printing it')
    p.add_argument('--allow-mixed-configs', action='store_true',
                   help='accept a work dir whose logs come from different configurations (uses the newest one)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [read_run(d, allow_mixed=args.allow_mixed_configs) for d in find_work_dirs(args.work_dirs)]
    names = [r['name'] for r in runs]
    for run in runs:
        if names.count(run['name']) > 1:  # work dirs of the same name from different places
            run['name'] = run['work_dir']
    keys = list(args.by) if args.by else default_setting_keys(runs)
    tables = summary_tables(runs, keys, by=args.by)
    text = to_csv(tables, keys) if args.format == 'csv' else to_markdown(tables, keys)
    if args.out:
        write_atomic(args.out, text)
        print(f'{len(runs)} runs -> {args.out}')
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except ResultsError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
