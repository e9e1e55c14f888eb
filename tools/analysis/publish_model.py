"""Make a checkpoint publishable: drop the optimizer state, put the first 8 hex digits of its sha256 in the name.

    python tools/analysis/publish_model.py work_dirs/x/best_top1_acc_epoch_24.pth x_ntu60_xsub.pth
    # -> x_ntu60_xsub-<8 hex>.pth

The input is read with ``weights_only`` (nothing in it runs). Kept: ``state_dict`` and ``meta`` (without its
``config`` text unless ``--keep-config``: it may hold local paths). The file is written atomically and an
existing file is never replaced.
"""
import argparse
import hashlib
import io
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402

DROPPED = ('optimizer', 'message_hub', 'amp', 'scaler')


def publish(in_file: str, out_file: str, keep_config: bool = False) -> str:
    """Write the published checkpoint and return its final path (``<out stem>-<sha256[:8]>.pth``)."""
    import torch

    from pyskl.utils.checkpoint import get_state_dict, load_checkpoint_file
    from pyskl.visualization.outputs import write_bytes

    if not out_file.endswith('.pth'):
        raise ValueError(f'output {out_file}: give a name ending in .pth (the hash is added before it)')
    checkpoint = load_checkpoint_file(in_file)
    published = dict(state_dict=get_state_dict(checkpoint, in_file))
    meta = dict(checkpoint.get('meta') or {}) if isinstance(checkpoint, dict) else {}
    if not keep_config:
        meta.pop('config', None)
    if meta:
        published['meta'] = meta
    buffer = io.BytesIO()
    torch.save(published, buffer)
    payload = buffer.getvalue()
    sha = hashlib.sha256(payload).hexdigest()
    final = out_file[:-len('.pth')] + f'-{sha[:8]}.pth'
    if osp.exists(final):
        raise FileExistsError(f'{final} already exists; it is not replaced (remove it or choose another name)')
    write_bytes(final, payload)
    return final


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='checkpoint written by training')
    parser.add_argument('out_file', help='output name, e.g. model.pth (becomes model-<hash>.pth)')
    parser.add_argument('--keep-config', action='store_true', help='keep meta["config"] (the config text)')
    args = parser.parse_args(argv)
    final = publish(args.in_file, args.out_file, args.keep_config)
    print(f'published {final}')
    return final


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
