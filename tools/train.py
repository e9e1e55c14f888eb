"""Train a recognizer: `python tools/train.py CONFIG [--validate] [--test-last] [--test-best] ...`.

Runs on one GPU or on the CPU without a launcher; `tools/dist_train.sh CONFIG N` runs N processes under torchrun.

A work dir holds one configuration (see `pyskl.apis.work_dir`): rerunning the same command continues the run
(exactly, with `--seed S --deterministic`); a changed config stops before anything is written and says what to do.
"""
import argparse
import os
import os.path as osp
import sys
import time

import _bootstrap


def parse_args(argv=None):
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description='Train a recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints (default: work_dirs/<config path>)')
    parser.add_argument('--resume-from', help='checkpoint to resume from (default: <work_dir>/latest.pth if any); '
                        'with a config that differs from the work dir\'s, the run writes to <work_dir>/run_<time>')
    parser.add_argument('--no-auto-resume', action='store_true',
                        help='start a new run instead of resuming; refused in a used work dir unless --force')
    parser.add_argument('--force', action='store_true',
                        help='the work dir holds another run: start a new one in <work_dir>/run_<time>')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='fully unpickle checkpoints (can run code from the file; only for files you trust)')
    parser.add_argument('--validate', action='store_true', help='evaluate on data.val during training')
    parser.add_argument('--test-last', action='store_true', help='test the final checkpoint on data.test')
    parser.add_argument('--test-best', action='store_true', help='test the best checkpoint on data.test')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true', help='deterministic kernels')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries, e.g. optimizer.lr=0.01 data.videos_per_gpu=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def derive_work_dir(config_path: str) -> str:
    """`configs/posec3d/x/joint.py` -> `./work_dirs/posec3d/x/joint`."""
    parts = osp.normpath(osp.splitext(config_path)[0]).split(os.sep)
    if 'configs' in parts:
        parts = parts[len(parts) - parts[::-1].index('configs'):]
    else:
        parts = parts[-1:]
    return osp.join('.', 'work_dirs', *parts)


def log_header(logger, cfg, config_path: str, world_size: int) -> None:
    """The environment and the full config, at the top of the log."""
    from pyskl.utils.misc import collect_env
    env = collect_env()
    env['World size'] = world_size
    line = '-' * 60
    logger.info('Environment info:\n' + line + '\n' + '\n'.join(f'{k}: {v}' for k, v in env.items()) + '\n' + line)
    logger.info(f'Config ({config_path}):\n{cfg.pretty_text}')


def main(argv=None):
    args = parse_args(argv)
    import mmcv

    from pyskl import __version__
    from pyskl.apis import train_model
    from pyskl.apis.work_dir import WorkDirConflict, effective_config, plan_run, read_run_record, write_run_record
    from pyskl.datasets import build_dataset
    from pyskl.datasets.from_config import check_data_keys, dataset_defaults
    from pyskl.models import build_model
    from pyskl.models.recognizers.base import model_num_classes
    from pyskl.utils import get_root_logger
    from pyskl.utils.checkpoint import set_unsafe_load
    from pyskl.utils.config_check import ConfigError, build_or_explain, check_work_dir, load_config
    from pyskl.utils.dist import broadcast_object, get_dist_info, init_dist
    from pyskl.utils.misc import init_random_seed, set_random_seed

    try:
        cfg = load_config(args.config, args.cfg_options)
        if args.work_dir is not None:
            cfg.work_dir = args.work_dir
        elif cfg.get('work_dir') is None:
            cfg.work_dir = derive_work_dir(args.config)
        check_work_dir(cfg.work_dir)
    except ConfigError as exc:
        raise SystemExit(f'error: {exc}') from None
    check_data_keys(cfg)
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    if args.no_auto_resume:
        cfg.auto_resume = False
    set_unsafe_load(args.unsafe_load or bool(cfg.get('unsafe_load_checkpoint', False)))

    if args.launcher != 'none':
        init_dist(args.launcher, **cfg.get('dist_params', {}))
    rank, world_size = get_dist_info()
    timestamp = broadcast_object(time.strftime('%Y%m%d_%H%M%S', time.localtime()))

    # the seed is part of the configuration; without --seed a resumed run keeps the one it was started with
    seed = args.seed if args.seed is not None else cfg.get('seed')
    if seed is None:
        record = read_run_record(cfg.work_dir) if rank == 0 and osp.isdir(cfg.work_dir) else None
        seed = broadcast_object(record['config'].get('seed') if record else None)
    seed = init_random_seed(seed)
    cfg.seed = seed
    effective = effective_config(cfg, world_size, args.deterministic)
    plan = None
    if rank == 0:
        try:
            plan = plan_run(cfg.work_dir, effective, timestamp, auto_resume=cfg.get('auto_resume', True),
                            resume_from=cfg.get('resume_from'), force=args.force)
        except WorkDirConflict as exc:
            plan = dict(error=str(exc))
    plan = broadcast_object(plan)
    if 'error' in plan:
        raise SystemExit(f'error: {plan["error"]}')
    cfg.work_dir = plan['work_dir']
    if not plan['resume'] and not cfg.get('resume_from'):
        cfg.auto_resume = False  # a new run (possibly in a fresh sub-folder) starts from scratch

    if rank == 0:
        mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
        name = osp.basename(args.config)
        cfg.dump(osp.join(cfg.work_dir, f'{timestamp}_{name}'))
        write_run_record(cfg.work_dir, timestamp, plan['run_id'], effective, config_file=args.config,
                         argv=list(argv) if argv is not None else sys.argv[1:], pyskl_version=__version__)
    log_file = osp.join(cfg.work_dir, f'{timestamp}.log') if rank == 0 else None
    logger = get_root_logger(log_file=log_file, log_level=cfg.get('log_level', 'INFO'))
    log_header(logger, cfg, args.config, world_size)
    logger.info(f'pyskl {__version__}; world size {world_size}; config {args.config}; run {plan["run_id"]}')
    if plan['note']:
        logger.warning(plan['note'])

    logger.info(f'seed {seed}, deterministic: {args.deterministic}')
    set_random_seed(seed, deterministic=args.deterministic)
    meta = dict(seed=seed, config=cfg.pretty_text, exp_name=osp.basename(args.config), pyskl_version=__version__,
                run_id=plan['run_id'], run_timestamp=timestamp)

    model = build_or_explain(build_model, cfg.model, args.config, 'model')
    num_classes = model_num_classes(model)
    datasets = [build_or_explain(build_dataset, cfg.data.train, args.config, 'data.train',
                                 dataset_defaults(num_classes))]
    if cfg.get('workflow') and len(cfg.workflow) == 2:
        datasets.append(build_or_explain(build_dataset, cfg.data.val, args.config, 'data.val',
                                         dataset_defaults(num_classes)))
    return train_model(model, datasets, cfg, validate=args.validate,
                       test=dict(test_last=args.test_last, test_best=args.test_best), timestamp=timestamp,
                       meta=meta)


if __name__ == '__main__':
    _bootstrap.run_cli(main)
