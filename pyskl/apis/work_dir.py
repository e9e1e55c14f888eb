"""One configuration per work dir: what a training run may do in the work dir it is pointed at.

Every run writes ``<timestamp>.run.json`` into its work dir: its run id, the command line and its *effective*
config (the config file after ``--cfg-options``, with the seed, the number of processes and the deterministic flag;
without the keys that only say where to write or how to start, see ``IGNORED_KEYS``). A run id names the run that a
checkpoint belongs to; a resumed run keeps the id of the run it continues, and every checkpoint records it
(``meta['run_id']``, plus ``meta['run_timestamp']`` for the attempt that wrote it).

:func:`plan_run` decides before anything is written:

* a fresh work dir: a new run;
* a used work dir and the same effective config: resume it (auto-resume or ``--resume-from``);
* a used work dir and a different config, or ``--no-auto-resume``: stop with :class:`WorkDirConflict`, naming the
  keys that differ and the choices: a new ``--work-dir``; ``--resume-from FILE`` or ``--force``, which both run
  in a fresh sub-folder ``<work_dir>/run_<timestamp>`` so that nothing of the earlier run is overwritten.
"""
import glob
import json
import os.path as osp
from typing import Any, List, Optional

from ..utils.io import atomic_write_text

RUN_RECORD_SUFFIX = '.run.json'
# keys that do not change what a run computes
IGNORED_KEYS = ('work_dir', 'resume_from', 'auto_resume', 'dist_params', 'log_level', 'gpu_ids',
                'unsafe_load_checkpoint')


class WorkDirConflict(RuntimeError):
    """The work dir holds a run that this run must not continue or overwrite."""


def plain_config(cfg) -> dict:
    """The config as JSON data (tuples become lists), so that a recorded and a new config compare equal."""
    data = cfg._cfg_dict.to_dict() if hasattr(cfg, '_cfg_dict') else dict(cfg)
    return json.loads(json.dumps(data, default=repr))


def effective_config(cfg, world_size: int, deterministic: bool) -> dict:
    """What determines a run's results: the plain config without ``IGNORED_KEYS``, plus the number of processes
    and the deterministic flag."""
    data = plain_config(cfg)
    for key in IGNORED_KEYS:
        data.pop(key, None)
    data['world_size'] = int(world_size)
    data['deterministic'] = bool(deterministic)
    return data


def diff_configs(old: Any, new: Any, prefix: str = '') -> List[str]:
    """Dotted names of the entries that differ (``optimizer.lr``, ``data.train.pipeline[3].scale``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new), key=str)
        out = []
        for key in keys:
            name = f'{prefix}.{key}' if prefix else str(key)
            if key not in old or key not in new:
                out.append(name)
            else:
                out += diff_configs(old[key], new[key], name)
        return out
    if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
            and any(isinstance(v, dict) for v in old + new)):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += diff_configs(a, b, f'{prefix}[{i}]')
        return out
    return [] if old == new else [prefix or '<config>']


def _value(data: Any, name: str) -> str:
    for part in name.replace('[', '.[').split('.'):
        if not part:
            continue
        try:
            data = data[int(part[1:-1])] if part.startswith('[') else data[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return '<absent>'
    return repr(data)


def run_records(work_dir: str) -> List[str]:
    """The run records of ``work_dir``, oldest first (their names start with the run's timestamp)."""
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '*' + RUN_RECORD_SUFFIX)))


def read_run_record(work_dir: str) -> Optional[dict]:
    """The newest run record of ``work_dir`` (None when there is none)."""
    records = run_records(work_dir)
    if not records:
        return None
    with open(records[-1], encoding='utf-8') as f:
        record = json.load(f)
    record['path'] = records[-1]
    return record


def work_dir_used(work_dir: str) -> bool:
    """Whether a run already wrote a checkpoint (``latest.pth``, ``epoch_*.pth`` or ``best_*.pth``) into ``work_dir``.

    A work dir holding only the records and logs of runs that stopped before their first checkpoint (a typo in
    the config, a missing file) has nothing to continue or protect: a new run starts there, and its own records,
    logs and config dump have names of their own (its timestamp), so nothing of the earlier attempts is replaced.
    """
    if not osp.isdir(work_dir):
        return False
    if osp.lexists(osp.join(work_dir, 'latest.pth')):
        return True
    return bool(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))


def plan_run(work_dir: str, effective: dict, timestamp: str, auto_resume: bool = True,
             resume_from: Optional[str] = None, force: bool = False) -> dict:
    """Where a run writes, which run id it has, and whether it continues the work dir's run.

    Returns:
        dict: ``work_dir`` (where to write), ``run_id``, ``resume`` (continue the run found there) and ``note``
        (a sentence for the log, or '').

    Raises:
        WorkDirConflict: the run would mix two configurations in ``work_dir``; the message names the differing
            keys and what to do.
    """
    fresh = dict(work_dir=work_dir, run_id=timestamp, resume=False, note='')
    if not work_dir_used(work_dir):
        return fresh
    record = read_run_record(work_dir)
    if record is None:
        differing = ['<all: the work dir has checkpoints but no run record, so its config is unknown>']
        old = {}
    else:
        old = record.get('config', {})
        differing = diff_configs(old, effective)
    same = not differing
    if same and (auto_resume or resume_from):
        return dict(work_dir=work_dir, run_id=record['run_id'], resume=True,
                    note=f'continuing run {record["run_id"]} of {work_dir}')
    sub_dir = osp.join(work_dir, f'run_{timestamp}')
    if force or (resume_from and not same):
        why = '--force' if force else '--resume-from with a different config'
        return dict(work_dir=sub_dir, run_id=timestamp, resume=False,
                    note=f'{work_dir} holds another run; {why}: this run writes to {sub_dir}')
    if same:
        reason = (f'{work_dir} already holds run {record["run_id"]} of this config and --no-auto-resume asks for '
                  'a new run, which would overwrite its checkpoints')
    else:
        shown = '; '.join(f'{k}: {_value(old, k)} -> {_value(effective, k)}' for k in differing[:20])
        more = f' (and {len(differing) - 20} more)' if len(differing) > 20 else ''
        source = record['path'] if record else work_dir
        reason = (f'{work_dir} was trained with another config ({source}); {len(differing)} keys differ: '
                  f'{shown}{more}')
    raise WorkDirConflict(
        f'{reason}. Nothing was written. Choose one: train in a new --work-dir; resume a checkpoint on purpose '
        f'with --resume-from FILE; or pass --force to start a new run in a fresh sub-folder '
        f'({osp.join(work_dir, "run_<timestamp>")})')


def write_run_record(work_dir: str, timestamp: str, run_id: str, effective: dict, **extra) -> str:
    """Write ``<work_dir>/<timestamp>.run.json``; returns its path."""
    path = osp.join(work_dir, timestamp + RUN_RECORD_SUFFIX)
    record = dict(run_id=run_id, timestamp=timestamp, config=effective, **extra)
    atomic_write_text(path, json.dumps(record, indent=1, sort_keys=True))  # a killed run never leaves half a record
    return path
