"""Write the embedded synthetic skeleton dataset as a pyskl annotation pickle.

    python tools/data/generate_synthetic.py [--out data/synthetic/synthetic.pkl] [--list lists/synthetic.csv]
                                            [--train-per-class N] [--val-per-class N] [--seed S]

The output path is relative to the current directory. The clips depend only on the arguments, so running it
again with the same arguments writes the same file.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

try:
    import pyskl  # noqa: F401
except ImportError:
    # a checkout that was not installed: tools/data/<this file> -> the repository root is two folders up
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate the synthetic skeleton action dataset (pyskl format)')
    parser.add_argument('--out', default=osp.join('data', 'synthetic', 'synthetic.pkl'),
                        help='annotation pickle to write (default: data/synthetic/synthetic.pkl)')
    parser.add_argument('--list', dest='class_list', default=None,
                        help='also write the class list CSV here (e.g. lists/synthetic.csv)')
    parser.add_argument('--train-per-class', type=int, default=40, help='training clips per class (default: 40)')
    parser.add_argument('--val-per-class', type=int, default=10, help='validation clips per class (default: 10)')
    parser.add_argument('--seed', type=int, default=0, help='random seed, a non-negative integer (default: 0)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    from pyskl.datasets.synthetic import SYNTHETIC_CLASSES, write_synthetic_dataset

    try:
        data = write_synthetic_dataset(args.out, class_list_path=args.class_list,
                                       num_train_per_class=args.train_per_class,
                                       num_val_per_class=args.val_per_class, seed=args.seed)
    except ValueError as error:
        sys.exit(f'generate_synthetic: {error}')
    written = args.out if args.class_list is None else f'{args.out} and {args.class_list}'
    print(f'synthetic dataset: {len(SYNTHETIC_CLASSES)} classes, {len(data["split"]["train"])} train / '
          f'{len(data["split"]["val"])} val clips, seed {args.seed} -> {written}')
    return data


if __name__ == '__main__':
    main()
