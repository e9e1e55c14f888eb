"""Test a checkpoint: `python tools/test.py CONFIG -C CHECKPOINT [--eval top_k_accuracy mean_class_accuracy]`.

The checkpoint must fit the model exactly (missing, unexpected or mis-shaped weights stop the run with exit code 1
and are listed; `--non-strict` allows a deliberate partial load). `--dump-features FILE` writes the clip-averaged
embeddings (`test_cfg.feat_ext=True`) instead of scoring.
"""
import argparse
import json
import os
import os.path as osp

import _bootstrap


def parse_args(argv=None):
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description='Test a recognizer checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('-C', '--checkpoint', required=True, help='checkpoint file')
    parser.add_argument('--out', help='dump the per-sample scores (.pkl / .json) here (an existing file is refused)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --out / --dump-features file')
    parser.add_argument('--dump-features', metavar='FILE',
                        help='write the per-sample embeddings (.pkl / .json) to FILE and compute no metrics')
    parser.add_argument('--non-strict', action='store_true',
                        help='load a checkpoint that does not fit the model (missing / unexpected / mis-shaped '
                        'weights keep their initial values; they are listed as warnings)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='fully unpickle the checkpoint (can run code from the file; only for files you trust)')
    parser.add_argument('--eval', type=str, nargs='+', default=None,
                        help='metrics, e.g. top_k_accuracy mean_class_accuracy (default: the config\'s)')
    parser.add_argument('--average-clips', choices=['score', 'prob', 'none'], default=None,
                        help='how clip scores are averaged (overrides model.test_cfg.average_clips)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries, e.g. data.test.split=xsub_val')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    from pyskl.apis.test import evaluation_kwargs, run_test
    from pyskl.core.parallel import wrap_model
    from pyskl.datasets.from_config import build_test_loader, check_data_keys
    from pyskl.models import build_model
    from pyskl.models.recognizers.base import model_num_classes
    from pyskl.utils import get_root_logger
    from pyskl.utils.checkpoint import CheckpointError, load_checkpoint, set_unsafe_load
    from pyskl.utils.config_check import ConfigError, build_or_explain, check_output_file, load_config
    from pyskl.utils.dist import get_dist_info, init_dist, is_distributed

    try:
        cfg = load_config(args.config, args.cfg_options)
        for option, path in (('--out', args.out), ('--dump-features', args.dump_features)):
            if path:
                check_output_file(path, option, overwrite=args.overwrite)
    except ConfigError as exc:
        raise SystemExit(f'error: {exc}') from None
    check_data_keys(cfg)
    set_unsafe_load(args.unsafe_load or bool(cfg.get('unsafe_load_checkpoint', False)))
    cfg.model.setdefault('test_cfg', dict())
    if args.average_clips is not None:
        cfg.model.test_cfg = dict(cfg.model.test_cfg or {}, average_clips=None if args.average_clips == 'none'
                                  else args.average_clips)
    for option, path in (('--out', args.out), ('--dump-features', args.dump_features)):
        if path and osp.splitext(path)[1].lower() not in ('.pkl', '.pickle', '.json'):
            raise SystemExit(f'error: {option} {path}: the file name must end in .pkl, .pickle or .json')
    feat_ext = bool((cfg.model.test_cfg or {}).get('feat_ext', False))
    if args.dump_features:
        if args.out or args.eval:
            raise SystemExit('error: --dump-features writes embeddings and computes no metrics; drop --out / '
                             '--eval, or test the scores in a separate run without --dump-features')
        cfg.model.test_cfg = dict(cfg.model.test_cfg or {}, feat_ext=True)
    elif feat_ext:
        raise SystemExit('error: model.test_cfg.feat_ext=True makes the model return embeddings, not class scores, '
                         'so they cannot be scored or dumped as scores; use --dump-features FILE to write them')
    if args.launcher != 'none':
        init_dist(args.launcher, **cfg.get('dist_params', {}))
    distributed = is_distributed()
    rank, _ = get_dist_info()
    logger = get_root_logger(log_level=cfg.get('log_level', 'INFO'))

    model = build_or_explain(build_model, cfg.model, args.config, 'model')
    dataset, loader = build_test_loader(cfg, distributed, model_num_classes(model))
    try:
        load_checkpoint(model, args.checkpoint, strict=not args.non_strict, logger=logger)
    except (CheckpointError, FileNotFoundError) as exc:
        raise SystemExit(f'error: {exc}') from None
    model = wrap_model(model, distributed)
    results = run_test(model, loader, distributed)
    if rank != 0:
        return None
    if args.dump_features:
        dataset.dump_results(results, args.dump_features)
        logger.info(f'{len(results)} embeddings of width {len(results[0]) if results else 0} written to '
                    f'{args.dump_features}; no metrics computed')
        return None
    if args.out:
        dataset.dump_results(results, args.out)
        logger.info(f'scores written to {args.out}')
    metrics = dataset.evaluate(results, logger=logger, **evaluation_kwargs(cfg, args.eval))
    for key, value in metrics.items():
        print(f'{key}: {value:.4f}')
    print(json.dumps({'checkpoint': osp.basename(args.checkpoint), **metrics}))
    return metrics


if __name__ == '__main__':
    _bootstrap.run_cli(main)
