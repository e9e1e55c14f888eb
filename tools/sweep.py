"""Run a grid of trainings of one config and tabulate their results.

    python tools/sweep.py CONFIG --set optimizer.lr=1e-3,1e-4 [--set KEY=V1,V2 ...] [--zip K1,K2] [--seeds 0,1,2]
        [--gpus N] [--launcher none|pytorch|slurm] [--dry-run] [--sweep-dir DIR] [--cfg-options K=V ...]

Every run is ``tools/train.py CONFIG --work-dir SWEEP_DIR/<run name> --seed S --deterministic --validate
--cfg-options <its settings>``, run one after the other: in this process's Python for one device, under
``python -m torch.distributed.run`` (torchrun) for ``--gpus N > 1`` or ``--launcher pytorch``, under ``srun`` for
``--launcher slurm``. ``--dry-run`` prints those commands and writes nothing.

Values: see :mod:`pyskl.utils.sweep` (``--set K=1e-3,1e-4`` is two runs, ``--set 'K=[1,2]'`` one run with a list;
``--zip K1,K2`` makes keys vary together instead of being crossed). Keys must exist in the config (a typo would
train identical runs); new ``custom_keys`` entries are fine, ``--allow-new-keys`` accepts others.

The sweep dir (default ``work_dirs/sweeps/<config name>_<hash of the sweep>``) holds ``sweep.json`` (the sweep's
definition; a sweep dir refuses a different one), one work dir per run with its ``sweep_run.json`` (settings,
command, exit code and wall time of each attempt) and ``sweep_output.log`` (the run's console output), and
``summary.csv`` / ``summary.md`` (rewritten after every run; see ``tools/analysis/collect_results.py``).

Rerunning the same command resumes the sweep: a run whose last attempt exited 0 and whose log reached the last epoch
is skipped; any other run is started again in its own work dir, where ``tools/train.py`` resumes from its
``latest.pth``. A failed run is reported and the sweep goes on; the exit code is 1 when any run did not finish.

The config is loaded with ``mmcv.Config.fromfile`` (which executes it, as ``tools/train.py`` does) to check the keys
and record the configuration.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, Dict, List

import _bootstrap  # noqa: F401

from pyskl.utils.results import (  # noqa: E402
    METRICS,
    RUN_RECORD,
    ResultsError,
    is_finished,
    read_run,
    summary_tables,
    to_csv,
    to_markdown,
    write_atomic,
)
from pyskl.utils.sweep import (  # noqa: E402
    SweepError,
    check_keys,
    digest,
    expand_grid,
    format_cfg_value,
    parse_set,
    parse_value,
    run_names,
)

TRAIN = osp.join(osp.dirname(osp.abspath(__file__)), 'train.py')
SPEC_FILE = 'sweep.json'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train a grid of settings of one config, one run after the other, and '
                                'tabulate their results (summary.csv / summary.md in the sweep dir).')
    p.add_argument('config', help='train config file path')
    p.add_argument('--set', dest='sets', action='append', default=[], metavar='KEY=V1,V2',
                   help='a config key and its values (one run per value; values parsed as --cfg-options does, '
                   '[..] and (..) are one list / tuple value); repeat for more keys (crossed)')
    p.add_argument('--zip', dest='zips', action='append', default=[], metavar='K1,K2',
                   help='--set keys (or unique dotted suffixes) that vary together instead of being crossed')
    p.add_argument('--seeds', default='0', help='comma-separated seeds, crossed with the grid (default: 0)')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='fixed overrides for every run (part of the sweep definition, not of the run names)')
    p.add_argument('--sweep-dir', help='where the runs go (default: work_dirs/sweeps/<config name>_<sweep hash>)')
    p.add_argument('--gpus', type=int, default=1, help='processes (GPUs) per run; > 1 runs under torchrun')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                   help='none: one process (torchrun when --gpus > 1); pytorch: torchrun; slurm: srun')
    p.add_argument('--master-port', type=int, default=int(os.environ.get('PORT', 29500)),
                   help='torchrun --master_port (default: $PORT or 29500)')
    p.add_argument('--partition', default=os.environ.get('PARTITION'), help='Slurm partition (default: $PARTITION)')
    p.add_argument('--gpus-per-node', type=int, default=None, help='Slurm: GPUs per node (default: min(gpus, 8))')
    p.add_argument('--cpus-per-task', type=int, default=5, help='Slurm: CPUs per task (default: 5)')
    p.add_argument('--srun-args', default=os.environ.get('SRUN_ARGS', ''), help='extra srun arguments (quoted)')
    p.add_argument('--no-deterministic', action='store_true', help='do not pass --deterministic to tools/train.py')
    p.add_argument('--test-last', action='store_true', help='pass --test-last to tools/train.py')
    p.add_argument('--test-best', action='store_true', help='pass --test-best to tools/train.py')
    p.add_argument('--allow-new-keys', action='store_true', help='accept keys that are not in the config')
    p.add_argument('--dry-run', action='store_true', help='print the commands of the runs still to do; write nothing')
    return p.parse_args(argv)


def load_config(path: str):
    from pyskl.utils.config_check import ConfigError
    from pyskl.utils.config_check import load_config as checked_config
    if not osp.isfile(path):
        raise SweepError(f'config {path} does not exist')
    try:  # the checks tools/train.py makes, before any run of the grid starts
        return checked_config(path)
    except ConfigError as exc:
        raise SweepError(str(exc)) from None


def parse_fixed(options: List[str]) -> Dict[str, Any]:
    fixed = {}
    for opt in options:
        if '=' not in opt:
            raise SweepError(f'--cfg-options {opt!r}: expected KEY=VALUE')
        key, text = opt.split('=', 1)
        fixed[key] = parse_value(text)
    return fixed


def build_spec(args) -> Dict[str, Any]:
    """The sweep definition: what must match for a sweep dir to be resumed."""
    sets = [parse_set(s) for s in args.sets]
    try:
        seeds = [int(s) for s in str(args.seeds).split(',') if s.strip()]
    except ValueError as e:
        raise SweepError(f'--seeds {args.seeds!r}: expected integers such as 0,1,2') from e
    if not seeds:
        raise SweepError('--seeds is empty')
    fixed = parse_fixed(args.cfg_options)
    overlap = sorted(set(fixed) & {k for k, _ in sets})
    if overlap:
        raise SweepError(f'{overlap} given both in --set and --cfg-options; keep one')
    runs = expand_grid(sets, args.zips, seeds)
    cfg = load_config(args.config)
    check_keys(cfg._cfg_dict.to_dict(), [k for k, _ in sets] + list(fixed), args.config, args.allow_new_keys)
    for value in [v for _, values in sets for v in values] + list(fixed.values()):
        format_cfg_value(value)
    return dict(config=osp.normpath(args.config), config_digest=digest(json.loads(json.dumps(
        cfg._cfg_dict.to_dict(), default=repr)), 16), sets=[[k, v] for k, v in sets], zips=list(args.zips),
        seeds=seeds, cfg_options=fixed, deterministic=not args.no_deterministic, validate=True,
        test_last=args.test_last, test_best=args.test_best, runs=runs)


def identity(spec: Dict[str, Any]) -> str:
    plain = json.loads(json.dumps(spec))  # tuples as lists, as in a sweep.json read back
    return digest({k: v for k, v in plain.items() if k != 'runs'}, 16)


def default_sweep_dir(spec: Dict[str, Any]) -> str:
    name = osp.splitext(osp.basename(spec['config']))[0]
    return osp.join('work_dirs', 'sweeps', f'{name}_{identity(spec)[:8]}')


def check_spec(sweep_dir: str, spec: Dict[str, Any]) -> bool:
    """True when the sweep dir already holds this sweep; refuses one that holds another."""
    path = osp.join(sweep_dir, SPEC_FILE)
    if not osp.exists(path):
        if osp.isdir(sweep_dir) and os.listdir(sweep_dir):
            raise SweepError(f'{sweep_dir} is not empty and holds no {SPEC_FILE}: it is not a sweep dir of this tool. '
                             'Pass a new --sweep-dir.')
        return False
    with open(path, encoding='utf-8') as f:
        old = json.load(f)
    new = json.loads(json.dumps(spec))
    if identity(old) != identity(spec):
        diff = [k for k in sorted(set(old) | set(new)) if k != 'runs' and old.get(k) != new.get(k)]
        details = '; '.join(f'{k}: {old.get(k)!r} there, {new.get(k)!r} now' for k in diff if k != 'config_digest')
        if 'config_digest' in diff:
            details += ('; ' if details else '') + f'the content of {spec["config"]} (or its _base_ files) changed'
        raise SweepError(f'{sweep_dir} holds another sweep ({details}). Its runs belong to that definition: pass a '
                         'new --sweep-dir for this one (or rerun the original command to resume it).')
    return True


def train_args(spec: Dict[str, Any], run: Dict[str, Any], work_dir: str, launcher: str) -> List[str]:
    args = [spec['config'], '--work-dir', work_dir, '--seed', str(run['seed'])]
    if spec['deterministic']:
        args.append('--deterministic')
    args.append('--validate')
    if spec['test_last']:
        args.append('--test-last')
    if spec['test_best']:
        args.append('--test-best')
    if launcher != 'none':
        args += ['--launcher', launcher]
    options = {**spec['cfg_options'], **{k: v for k, v in run.items() if k != 'seed'}}
    if options:
        args += ['--cfg-options'] + [f'{k}={format_cfg_value(v)}' for k, v in options.items()]
    return args


def display_path(path: str) -> str:
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


def command(args, spec: Dict[str, Any], run: Dict[str, Any], name: str, work_dir: str) -> List[str]:
    """The exact command line of one run."""
    train = display_path(TRAIN)
    if args.launcher == 'slurm':
        per_node = args.gpus_per_node or min(args.gpus, 8)
        cmd = ['srun']
        if args.partition:
            cmd += ['-p', args.partition]
        cmd += [f'--job-name={name}', f'--gres=gpu:{per_node}', f'--ntasks={args.gpus}',
                f'--ntasks-per-node={per_node}', f'--cpus-per-task={args.cpus_per_task}', '--kill-on-bad-exit=1']
        cmd += shlex.split(args.srun_args)
        return cmd + [sys.executable, '-u', train] + train_args(spec, run, work_dir, 'slurm')
    if args.launcher == 'pytorch' or args.gpus > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run']
        if os.environ.get('NNODES'):
            cmd += [f'--nnodes={os.environ["NNODES"]}', f'--node_rank={os.environ.get("NODE_RANK", 0)}',
                    f'--master_addr={os.environ.get("MASTER_ADDR", "127.0.0.1")}']
        cmd += [f'--nproc_per_node={args.gpus}', f'--master_port={args.master_port}', train]
        return cmd + train_args(spec, run, work_dir, 'pytorch')
    return [sys.executable, train] + train_args(spec, run, work_dir, 'none')


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec='seconds')


def write_json(path: str, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2) + '\n')


def run_one(cmd: List[str], work_dir: str, record: Dict[str, Any], gpus: int, launcher: str) -> int:
    os.makedirs(work_dir, exist_ok=True)
    attempt = dict(started=now(), ended=None, returncode=None, wall_time_s=None, gpus=gpus, launcher=launcher,
                   command=cmd)
    record.setdefault('attempts', []).append(attempt)
    record_path = osp.join(work_dir, RUN_RECORD)
    write_json(record_path, record)
    t0 = time.monotonic()
    with open(osp.join(work_dir, 'sweep_output.log'), 'ab') as out:
        out.write(f'==== {attempt["started"]} {shlex.join(cmd)}\n'.encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            rc = proc.wait()
        except BaseException:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            if proc.poll() is None:
                proc.kill()
            attempt.update(ended=now(), returncode=proc.wait(), wall_time_s=time.monotonic() - t0)
            write_json(record_path, record)
            raise
    attempt.update(ended=now(), returncode=rc, wall_time_s=round(time.monotonic() - t0, 3))
    write_json(record_path, record)
    return rc


def output_tail(work_dir: str, lines: int = 15) -> str:
    path = osp.join(work_dir, 'sweep_output.log')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8', errors='replace') as f:
        return ''.join(f.readlines()[-lines:])


def write_summary(sweep_dir: str, spec: Dict[str, Any], names: List[str], cmdline: str) -> List[Dict[str, Any]]:
    runs = []
    for name, settings in zip(names, spec['runs']):
        work_dir = osp.join(sweep_dir, name)
        if osp.isdir(work_dir):
            run = read_run(work_dir, allow_mixed=True)
        else:
            run = dict(work_dir=work_dir, name=name, config={}, seed=settings['seed'], record=None, note='',
                       status='not started', **{m: None for m in METRICS})
        run['settings'] = settings
        runs.append(run)
    keys = [k for k, _ in spec['sets']]
    tables = summary_tables(runs, keys)
    write_atomic(osp.join(sweep_dir, 'summary.csv'), to_csv(tables, keys))
    header = (f'# Sweep of {spec["config"]}\n\n`{cmdline}`\n\nAccuracies in %, mean ± sample std; '
              'only finished runs enter the means.\n\n')
    write_atomic(osp.join(sweep_dir, 'summary.md'), header + to_markdown(tables, keys))
    return runs


@contextlib.contextmanager
def locked(sweep_dir: str):
    import fcntl
    with open(osp.join(sweep_dir, '.sweep.lock'), 'w') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise SweepError(f'another tools/sweep.py is running in {sweep_dir}; wait for it or use another '
                             '--sweep-dir') from e
        yield


def main(argv=None) -> int:
    args = parse_args(argv)
    cmdline = shlex.join(['tools/sweep.py'] + list(sys.argv[1:] if argv is None else argv))
    if args.gpus < 1:
        raise SweepError('--gpus must be at least 1')
    if not args.sets:
        raise SweepError('give at least one --set KEY=V1,V2 (e.g. --set optimizer.lr=1e-3,1e-4)')
    spec = build_spec(args)
    sweep_dir = args.sweep_dir or default_sweep_dir(spec)
    existing = check_spec(sweep_dir, spec)
    names = run_names(spec['runs'])
    states = []
    for name in names:
        work_dir = osp.join(sweep_dir, name)
        done = osp.exists(osp.join(work_dir, RUN_RECORD)) and is_finished(read_run(work_dir, allow_mixed=True))
        states.append(done)
    todo = [i for i, d in enumerate(states) if not d]
    print(f'sweep of {spec["config"]}: {len(names)} runs in {sweep_dir}, {len(names) - len(todo)} finished, '
          f'{len(todo)} to run', flush=True)
    if args.dry_run:
        for i, name in enumerate(names):
            cmd = command(args, spec, spec['runs'][i], name, osp.join(sweep_dir, name))
            print(('# finished, skipped: ' if states[i] else '') + shlex.join(cmd))
        return 0
    os.makedirs(sweep_dir, exist_ok=True)
    with locked(sweep_dir):
        if not existing:
            write_json(osp.join(sweep_dir, SPEC_FILE), spec)
        for n, i in enumerate(todo):
            name, run = names[i], spec['runs'][i]
            work_dir = osp.join(sweep_dir, name)
            cmd = command(args, spec, run, name, work_dir)
            print(f'[{n + 1}/{len(todo)}] {name}\n  {shlex.join(cmd)}', flush=True)
            record_path = osp.join(work_dir, RUN_RECORD)
            record = dict(name=name, settings=run, config=spec['config'], attempts=[])
            if osp.exists(record_path):
                with open(record_path, encoding='utf-8') as f:
                    record = json.load(f)
            rc = run_one(cmd, work_dir, record, args.gpus, args.launcher)
            try:
                result = read_run(work_dir, allow_mixed=True)
                status = result['status']
            except ResultsError as e:
                result, status = None, f'unreadable logs: {e}'
            if status == 'finished':
                best = result['best_top1']
                print(f'  finished in {record["attempts"][-1]["wall_time_s"]:.0f} s, best top-1 '
                      + ('-' if best is None else f'{100 * best:.2f}%'), flush=True)
            else:
                print(f'  NOT finished: {status} (exit code {rc}); output in {work_dir}/sweep_output.log:\n'
                      + output_tail(work_dir), flush=True)
            write_summary(sweep_dir, spec, names, cmdline)
        runs = write_summary(sweep_dir, spec, names, cmdline)
    unfinished = [r['name'] for r in runs if not is_finished(r)]
    print(f'summary: {osp.join(sweep_dir, "summary.md")} and summary.csv')
    if unfinished:
        print(f'{len(unfinished)} of {len(runs)} runs did not finish: {", ".join(unfinished)}; rerun the same '
              'command to retry them (finished runs are skipped)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (SweepError, ResultsError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print('interrupted; rerun the same command to resume the sweep', file=sys.stderr)
        sys.exit(130)
