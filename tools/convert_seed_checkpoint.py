"""Convert a checkpoint of the original SkeletonCLIP++ code into this library's layout.

    python tools/convert_seed_checkpoint.py IN OUT [--recognizer auto|visece|itm|mo|pacl]

IN is read with weights_only (no code runs); OUT gets ``state_dict`` (the renamed weights) and ``meta`` (IN's meta
plus a note of the conversion); the optimizer state is left out (its parameter groups follow the old model). OUT is
written atomically and never overwrites an existing file. The mapping is described in
``pyskl/utils/seed_checkpoint.py``; the converted file loads strictly into the recognizer built from the config.
"""
import argparse
import io
import os.path as osp
import sys

import _bootstrap  # noqa: F401


def parse_args(argv=None):
    from pyskl.utils.seed_checkpoint import RECOGNIZERS, SEED_TYPE_VOCAB_SIZE
    parser = argparse.ArgumentParser(description='Convert an original SkeletonCLIP++ checkpoint to this layout')
    parser.add_argument('input', help='checkpoint of the original code (.pth)')
    parser.add_argument('output', help='where to write the converted checkpoint (must not exist)')
    parser.add_argument('--recognizer', choices=('auto', ) + RECOGNIZERS, default='auto',
                        help='which recognizer the weights belong to (default: detected from the keys)')
    parser.add_argument('--type-vocab-size', type=int, default=SEED_TYPE_VOCAB_SIZE,
                        help='rows of the zero token-type table added to each BERT (0: none; default %(default)s)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='fully unpickle IN (can run code from the file; only for files you trust)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from pyskl.utils.checkpoint import CheckpointError, get_state_dict, load_checkpoint_file, set_unsafe_load
    from pyskl.utils.io import atomic_write_bytes
    from pyskl.utils.seed_checkpoint import convert_seed_state_dict

    if osp.exists(args.output):
        sys.exit(f'error: {args.output} exists; choose another output path (nothing is overwritten)')
    set_unsafe_load(args.unsafe_load)
    try:
        checkpoint = load_checkpoint_file(args.input)
    except (CheckpointError, FileNotFoundError) as error:
        sys.exit(f'error: {error}')
    try:
        state, report = convert_seed_state_dict(get_state_dict(checkpoint, args.input), args.recognizer,
                                                type_vocab_size=args.type_vocab_size, source=args.input)
    except (KeyError, ValueError) as error:
        sys.exit(f'error: {error.args[0] if isinstance(error, KeyError) else error}')
    meta = dict(checkpoint.get('meta') or {}) if isinstance(checkpoint, dict) else {}
    meta['converted_from_seed'] = dict(source=osp.basename(args.input), recognizer=report['recognizer'])
    buffer = io.BytesIO()
    torch.save(dict(state_dict=state, meta=meta), buffer)
    atomic_write_bytes(args.output, buffer.getvalue())
    print(f'{args.output}: {report["recognizer"]} checkpoint, {len(state)} tensors ({report["renamed"]} renamed, '
          f'{len(report["added"])} added, {len(report["dropped"])} dropped)')
    for key in report['added']:
        print(f'  added {key}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
