"""Train a recognizer: `python tools/train.py CONFIG [--validate] [--test-last] [--test-best] ...`.

Runs on one GPU or on the CPU without a launcher; `tools/dist_train.sh CONFIG N` runs N processes under torchrun.
"""
import argparse
import os
import os.path as osp
import time
import warnings

import _bootstrap  # noqa: F401

warnings.filterwarnings('ignore', message='On January 1, 2023, MMCV will release v2.0.0')


def parse_args(argv=None):
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description='Train a recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints (default: work_dirs/<config path>)')
    parser.add_argument('--resume-from', help='checkpoint to resume from (default: <work_dir>/latest.pth if any)')
    parser.add_argument('--no-auto-resume', action='store_true', help='do not resume from <work_dir>/latest.pth')
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


def main(argv=None):
    args = parse_args(argv)
    import mmcv
    from mmcv import Config

    from pyskl import __version__
    from pyskl.apis import train_model
    from pyskl.datasets import build_dataset
    from pyskl.models import build_model
    from pyskl.utils import get_root_logger
    from pyskl.utils.dist import get_dist_info, init_dist
    from pyskl.utils.misc import init_random_seed, set_random_seed

    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = derive_work_dir(args.config)
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    if args.no_auto_resume:
        cfg.auto_resume = False

    if args.launcher != 'none':
        init_dist(args.launcher, **cfg.get('dist_params', {}))
    rank, world_size = get_dist_info()

    if rank == 0:
        mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
        cfg.dump(osp.join(cfg.work_dir, osp.basename(args.config)))
    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    log_file = osp.join(cfg.work_dir, f'{timestamp}.log') if rank == 0 else None
    logger = get_root_logger(log_file=log_file, log_level=cfg.get('log_level', 'INFO'))
    logger.info(f'pyskl {__version__}; world size {world_size}; config {args.config}')

    seed = init_random_seed(args.seed if args.seed is not None else cfg.get('seed'))
    logger.info(f'seed {seed}, deterministic: {args.deterministic}')
    set_random_seed(seed, deterministic=args.deterministic)
    cfg.seed = seed
    meta = dict(seed=seed, config=cfg.pretty_text, exp_name=osp.basename(args.config), pyskl_version=__version__)

    model = build_model(cfg.model)
    datasets = [build_dataset(cfg.data.train)]
    if cfg.get('workflow') and len(cfg.workflow) == 2:
        datasets.append(build_dataset(cfg.data.val))
    return train_model(model, datasets, cfg, validate=args.validate,
                       test=dict(test_last=args.test_last, test_best=args.test_best), timestamp=timestamp,
                       meta=meta)


if __name__ == '__main__':
    main()
