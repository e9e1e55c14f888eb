"""Results of training runs, read from their work dirs: one summary per run, mean +- std over groups, tables.

A work dir holds the JSON logs of mmcv's ``TextLoggerHook`` (``<timestamp>.log.json``: a first line with the run's
meta -- ``seed``, ``config`` (the effective config as Python text) -- then one line per logged ``'train'`` or
``'val'`` step), the text logs (``<timestamp>.log``) and, for runs made by ``tools/sweep.py``, ``sweep_run.json``
(the run's settings and the exit code and wall time of each attempt).

Configs are read as data, never executed: the config text of the JSON log meta (or a ``*.py`` config dump in the
work dir) is parsed with :mod:`ast` and only literals, ``dict(...)`` calls and ``inf`` / ``nan`` are accepted; any
other expression is an error naming the file and line. That is why no ``mmcv.Config.fromfile`` is used here (it runs
the file as Python), and why the reader is written here: :func:`ast.literal_eval` refuses the ``dict(...)`` calls
that mmcv writes into every dump. The Markdown tables are a few lines of string formatting, which spares a
dependency.

The mean and std are the sample mean and the sample standard deviation (n - 1 in the denominator) of
:mod:`statistics`; a group of one run has no std. Accuracies are fractions in CSV and percentages in Markdown.
"""
import ast
import csv
import glob
import io
import json
import os.path as osp
import re
import statistics
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from .io import atomic_write_text
from .sweep import SEED_KEY, flatten, is_split_key

RUN_RECORD = 'sweep_run.json'
# config entries that name the run's place or resumption, not its training setting
BOOKKEEPING_KEYS = ('work_dir', 'resume_from', 'auto_resume', 'gpu_ids')
METRICS = ('best_top1', 'best_epoch', 'best_top5', 'best_mean_class', 'last_top1', 'last_top5', 'last_mean_class',
           'wall_time_s')
ACCURACY = {'best_top1', 'best_top5', 'best_mean_class', 'last_top1', 'last_top5', 'last_mean_class'}
HEADERS = {
    'best_top1': 'best top-1', 'best_epoch': 'best at epoch', 'best_top5': 'top-5 at best',
    'best_mean_class': 'mean-class at best', 'last_top1': 'last top-1', 'last_top5': 'last top-5',
    'last_mean_class': 'last mean-class', 'wall_time_s': 'wall time (s)'
}
_TIME = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ')


class ResultsError(ValueError):
    """A work dir whose logs or config cannot be read as they are; the message names the file."""


# ---------------------------------------------------------------------------------------------------------- configs
def literal_config(text: str, source: str) -> Dict[str, Any]:
    """Parse a config dump (``key = dict(...)`` statements) without executing it."""
    try:
        tree = ast.parse(text, filename=source)
    except SyntaxError as e:
        raise ResultsError(f'{source}: the config text is not valid Python (line {e.lineno}): {e.msg}') from e
    cfg = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            cfg[node.targets[0].id] = _literal(node.value, source)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        else:
            raise ResultsError(f'{source}, line {node.lineno}: only `name = value` statements can be read as data '
                               f'(found {type(node).__name__}); nothing was executed')
    return cfg


def _literal(node: ast.AST, source: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_literal(e, source) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, source) for e in node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(k, source): _literal(v, source) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, source)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in ('inf', 'nan'):
        return float(node.id)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' and not node.args
            and all(k.arg is not None for k in node.keywords)):
        return {k.arg: _literal(k.value, source) for k in node.keywords}
    raise ResultsError(f'{source}, line {getattr(node, "lineno", "?")}: {ast.dump(node)[:80]} is not a literal; '
                       'config dumps are read as data and never executed')


def get_key(cfg: Dict[str, Any], key: str, default: Any = None) -> Any:
    node = cfg
    for part in key.split('.'):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def config_differences(a: Dict[str, Any], b: Dict[str, Any]) -> List[str]:
    fa, fb = flatten(a), flatten(b)
    keys = sorted(set(fa) | set(fb))
    return [k for k in keys if k.split('.')[0] not in BOOKKEEPING_KEYS and _norm(fa.get(k)) != _norm(fb.get(k))]


def _norm(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


# ------------------------------------------------------------------------------------------------------------- logs
def read_json_log(path: str) -> List[dict]:
    """All records of one ``.log.json`` file; a truncated last line (a killed run) is skipped."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            if i == len(lines) - 1:
                continue  # the run was killed while writing it
            raise ResultsError(f'{path}, line {i + 1}: not JSON ({e.msg}); the log is damaged') from e
    return records


def log_wall_time(path: str) -> Optional[float]:
    """Seconds from the first to the last timestamped line of a text log."""
    first = last = None
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = _TIME.match(line)
            if m:
                t = datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S').timestamp() + int(m.group(2)) / 1000
                first = t if first is None else first
                last = t
    return None if first is None else last - first


def find_work_dirs(paths: Sequence[str]) -> List[str]:
    """Each path that holds ``*.log.json`` is a work dir; any other directory is searched below for work dirs."""
    found = []
    for path in paths:
        if not osp.isdir(path):
            raise ResultsError(f'{path}: no such directory')
        if glob.glob(osp.join(path, '*.log.json')):
            found.append(path)
            continue
        below = sorted({osp.dirname(p) for pattern in ('*.log.json', RUN_RECORD)
                        for p in glob.glob(osp.join(path, '**', pattern), recursive=True)})
        if not below and not osp.exists(osp.join(path, RUN_RECORD)):
            raise ResultsError(f'{path}: no *.log.json in it or below it; is it a work dir of tools/train.py?')
        found.extend(below or [path])
    return found


def read_run(work_dir: str, allow_mixed: bool = False) -> Dict[str, Any]:
    """Summarise one work dir: its config, seed, settings, status and metrics (see ``METRICS``)."""
    record = None
    record_path = osp.join(work_dir, RUN_RECORD)
    if osp.exists(record_path):
        with open(record_path, encoding='utf-8') as f:
            record = json.load(f)
    logs = sorted(glob.glob(osp.join(work_dir, '*.log.json')))
    configs, val, max_epoch, seed, notes = [], {}, 0, None, []
    for log in logs:
        for rec in read_json_log(log):
            if 'mode' not in rec:
                if isinstance(rec.get('config'), str):
                    configs.append((log, literal_config(rec['config'], f'{log} (meta line "config")')))
                if rec.get('seed') is not None:
                    seed = rec['seed']
                continue
            epoch = rec.get('epoch')
            if not isinstance(epoch, int):
                continue
            max_epoch = max(max_epoch, epoch)
            if rec['mode'] == 'val':
                val[epoch] = rec  # a rerun of an epoch after a resume replaces the earlier record
    if not configs:
        dumps = sorted(glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime)
        if dumps:
            with open(dumps[-1], encoding='utf-8') as f:
                configs.append((dumps[-1], literal_config(f.read(), dumps[-1])))
    cfg = configs[-1][1] if configs else {}
    for (log_a, a), (log_b, b) in zip(configs, configs[1:]):
        diff = config_differences(a, b)
        if diff:
            msg = (f'{work_dir} holds logs of different configurations: {osp.basename(log_a)} and '
                   f'{osp.basename(log_b)} differ in {diff[:8]}')
            if not allow_mixed:
                raise ResultsError(msg + '; collect each configuration from its own work dir, or pass '
                                   '--allow-mixed-configs to use the newest log\'s config')
            notes.append(f'mixed configs ({", ".join(diff[:3])})')
    if seed is None:
        seed = cfg.get('seed', (record or {}).get('settings', {}).get(SEED_KEY))
    total = cfg.get('total_epochs', get_key(cfg, 'runner.max_epochs'))

    run: Dict[str, Any] = dict(work_dir=work_dir, name=osp.basename(osp.normpath(work_dir)), config=cfg,
                               seed=seed, total_epochs=total, epochs=max_epoch, record=record)
    run['settings'] = dict(record['settings']) if record else None
    run.update(_metrics(val))
    run['status'] = _status(run, val, record, work_dir)
    run['wall_time_s'] = _wall_time(record, work_dir)
    interval = get_key(cfg, 'evaluation.interval', 1)
    if val and isinstance(interval, int) and interval > 0:
        last = max_epoch if run['status'] == 'finished' else max_epoch - 1  # an unfinished epoch is not missing
        missing = [e for e in range(interval, last + 1, interval) if e not in val]
        if missing:  # e.g. killed between a checkpoint and its evaluation, then resumed
            notes.append(f'epochs never validated: {", ".join(map(str, missing))}')
    run['note'] = '; '.join(notes)
    return run


def _metrics(val: Dict[int, dict]) -> Dict[str, Any]:
    out = {m: None for m in METRICS if m != 'wall_time_s'}
    scored = [(e, r) for e, r in sorted(val.items()) if isinstance(r.get('top1_acc'), (int, float))]
    if not scored:
        return out
    best_epoch, best = scored[0]
    for epoch, rec in scored[1:]:
        if rec['top1_acc'] > best['top1_acc']:  # the first epoch wins a tie, as the best checkpoint does
            best_epoch, best = epoch, rec
    last = scored[-1][1]
    out.update(best_top1=best['top1_acc'], best_epoch=best_epoch, best_top5=best.get('top5_acc'),
               best_mean_class=best.get('mean_class_accuracy'), last_top1=last['top1_acc'],
               last_top5=last.get('top5_acc'), last_mean_class=last.get('mean_class_accuracy'))
    return out


def _status(run: Dict[str, Any], val: Dict[int, dict], record: Optional[dict], work_dir: str) -> str:
    total, epochs = run['total_epochs'], run['epochs']
    reached = total is not None and epochs >= total
    if record is not None:
        attempts = record.get('attempts') or []
        if not attempts:
            return 'not started'
        rc = attempts[-1].get('returncode')
        if rc is None:
            return 'interrupted'
        if rc != 0:
            return f'failed (exit {rc})'
        return 'finished' if reached else f'incomplete (epoch {epochs}/{total})'
    # no exit code known: the last epoch must have been validated or checkpointed, not only started
    if reached and (total in val or osp.exists(osp.join(work_dir, f'epoch_{total}.pth'))):
        return 'finished'
    return f'incomplete (epoch {epochs}/{total if total is not None else "?"})'


def _wall_time(record: Optional[dict], work_dir: str) -> Optional[float]:
    if record is not None and record.get('attempts') and all(
            isinstance(a.get('wall_time_s'), (int, float)) for a in record['attempts']):
        return float(sum(a['wall_time_s'] for a in record['attempts']))
    times = [t for t in (log_wall_time(p) for p in sorted(glob.glob(osp.join(work_dir, '*.log')))) if t is not None]
    return float(sum(times)) if times else None


def is_finished(run: Dict[str, Any]) -> bool:
    return run['status'] == 'finished'


# ------------------------------------------------------------------------------------------------------- settings
def setting_of(run: Dict[str, Any], key: str) -> Any:
    if key == SEED_KEY:
        return run['seed']
    if run.get('settings') and key in run['settings']:
        return run['settings'][key]
    return get_key(run['config'], key)


def default_setting_keys(runs: Sequence[Dict[str, Any]], max_keys: int = 10) -> List[str]:
    """The sweep's keys when every run has the same ones; otherwise the config keys in which the runs differ."""
    records = [tuple(r['settings']) if r.get('settings') is not None else None for r in runs]
    if runs and None not in records and len(set(records)) == 1:
        return [k for k in records[0] if k != SEED_KEY]
    flats = [flatten(r['config']) for r in runs]
    keys = sorted(set().union(*flats)) if flats else []
    differing = [k for k in keys if k.split('.')[0] not in BOOKKEEPING_KEYS + (SEED_KEY, )
                 and len({canonical_value(f.get(k)) for f in flats}) > 1]
    return differing if len(differing) <= max_keys else []


def canonical_value(v: Any) -> str:
    return json.dumps(_norm(v), sort_keys=True, default=str)


# ------------------------------------------------------------------------------------------------------ aggregation
def mean_std(values: Sequence[float]) -> tuple:
    values = [float(v) for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def aggregate(runs: Sequence[Dict[str, Any]], group_keys: Sequence[str], label: str) -> List[Dict[str, Any]]:
    """One row per distinct value of ``group_keys``: mean and std of every metric over its finished runs."""
    groups: Dict[str, List[Dict[str, Any]]] = {}
    values: Dict[str, Dict[str, Any]] = {}
    for run in runs:
        key_vals = {k: setting_of(run, k) for k in group_keys}
        ident = canonical_value([key_vals[k] for k in group_keys])
        groups.setdefault(ident, []).append(run)
        values.setdefault(ident, key_vals)
    rows = []
    for ident, members in groups.items():
        done = [r for r in members if is_finished(r)]
        row = dict(kind=label, name=label, settings=values[ident], n=len(done), total=len(members),
                   seeds=sorted({r['seed'] for r in done if r['seed'] is not None}))
        for m in METRICS:
            row[m], row[m + '_std'] = mean_std([r[m] for r in done])
        rows.append(row)
    return rows


def summary_tables(runs: Sequence[Dict[str, Any]], setting_keys: Sequence[str],
                   by: Optional[Sequence[str]] = None) -> List[tuple]:
    """``[(title, kind, rows)]``: the runs, the mean over seeds, and the mean over splits when splits are swept."""
    tables = [('Runs', 'run', list(runs))]
    if by:
        tables.append((f'Mean ± std by {", ".join(by)}', 'group', aggregate(runs, by, 'group')))
        return tables
    keys = [k for k in setting_keys if k != SEED_KEY]
    if len(runs) > 1:
        tables.append(('Mean ± std over seeds', 'seeds', aggregate(runs, keys, 'seeds')))
    if any(is_split_key(k) for k in keys):
        rest = [k for k in keys if not is_split_key(k)]
        tables.append(('Mean ± std over splits and seeds', 'splits', aggregate(runs, rest, 'splits')))
    return tables


# ---------------------------------------------------------------------------------------------------------- output
def _fmt_md(value: Any, metric: str = '') -> str:
    if value is None:
        return '-'
    if metric in ACCURACY:
        return f'{100 * value:.2f}'
    if metric == 'wall_time_s':
        return f'{value:.0f}'
    if metric == 'best_epoch':
        return f'{value:g}' if isinstance(value, float) else str(value)
    if isinstance(value, float):
        return f'{value:g}'
    return str(value)


def _setting_text(value: Any) -> str:
    if isinstance(value, float):
        return f'{value:g}'
    return '-' if value is None else str(value)


def to_markdown(tables: Sequence[tuple], setting_keys: Sequence[str]) -> str:
    """Markdown tables; accuracies in percent, ``mean ± std`` in the aggregate tables."""
    out = []
    keys = [k for k in setting_keys if k != SEED_KEY]
    for title, kind, rows in tables:
        out.append(f'## {title}\n')
        if kind == 'run':
            head = ['run'] + keys + ['seed', 'status'] + [HEADERS[m] for m in METRICS]
            body = [[r['name']] + [_setting_text(setting_of(r, k)) for k in keys] + [_setting_text(r['seed']),
                    r['status'] + (f' ({r["note"]})' if r.get('note') else '')] + [_fmt_md(r[m], m) for m in METRICS]
                    for r in rows]
        else:
            gkeys = list(rows[0]['settings']) if rows else []
            head = gkeys + ['seeds', 'runs'] + [HEADERS[m] for m in METRICS]
            body = []
            for r in rows:
                cells = [_setting_text(r['settings'][k]) for k in gkeys]
                cells += [','.join(map(str, r['seeds'])) or '-', f'{r["n"]}/{r["total"]}']
                for m in METRICS:
                    text = _fmt_md(r[m], m)
                    if r[m + '_std'] is not None:
                        text += ' ± ' + _fmt_md(r[m + '_std'], m)
                    cells.append(text)
                body.append(cells)
        out.append('| ' + ' | '.join(head) + ' |')
        out.append('|' + '---|' * len(head))
        out.extend('| ' + ' | '.join(c.replace('|', '\\|') for c in row) + ' |' for row in body)
        out.append('')
    return '\n'.join(out)


def to_csv(tables: Sequence[tuple], setting_keys: Sequence[str]) -> str:
    """One CSV: a ``kind`` column says ``run`` or the aggregate (``seeds``, ``splits``, ``group``); raw fractions."""
    keys = [k for k in setting_keys if k != SEED_KEY]
    for _, kind, rows in tables:
        if kind != 'run':
            keys += [k for k in (rows[0]['settings'] if rows else []) if k not in keys and k != SEED_KEY]
    fields = ['kind', 'run'] + keys + ['seed', 'n', 'status']
    for m in METRICS:
        fields += [m, m + '_std']
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator='\n')
    writer.writeheader()
    for _, kind, rows in tables:
        for r in rows:
            if kind == 'run':
                row = dict(kind='run', run=r['name'], seed=r['seed'], n=1, status=r['status'])
                row.update({k: _csv_value(setting_of(r, k)) for k in keys})
                row.update({m: r[m] for m in METRICS})
            else:
                row = dict(kind=kind, run=f'mean over {kind}' if kind != 'group' else 'mean',
                           seed=';'.join(map(str, r['seeds'])), n=r['n'], status=f'{r["n"]}/{r["total"]} finished')
                row.update({k: _csv_value(v) for k, v in r['settings'].items() if k != SEED_KEY})
                row.update({m: r[m] for m in METRICS})
                row.update({m + '_std': r[m + '_std'] for m in METRICS})
            writer.writerow({k: ('' if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(_norm(v))
    return v


def write_atomic(path: str, text: str) -> None:
    """Write a table or record atomically (see `pyskl.utils.io`)."""
    atomic_write_text(path, text)


