"""Print a config with its bases merged and the ``--cfg-options`` overrides applied.

    python tools/analysis/print_config.py CONFIG [--cfg-options optimizer.lr=0.1 data.videos_per_gpu=8]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402


def main(argv=None) -> str:
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries, e.g. optimizer.lr=0.1')
    args = parser.parse_args(argv)
    from pyskl.apis.inference import load_config
    cfg = load_config(args.config, args.cfg_options)
    text = cfg.pretty_text
    print(f'Config:\n{text}')
    return text


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
