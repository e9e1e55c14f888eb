"""Score pose samples with a trained recognizer, against its classes or against any sentences.

    python tools/infer.py CONFIG CKPT ANN.pkl [--sample FRAME_DIR ...] [--text "a sentence" ...] [--topk 5]
                          [--out results.json]

ANN.pkl is a pyskl annotation pickle (``dict(split=..., annotations=[...])``), a list of annotations, or a single
annotation dict; no split is needed. ``--sample`` picks samples by ``frame_dir`` (default: every sample). With
``--text`` a text-supervised recognizer scores each clip against the given sentences (open vocabulary); without it,
against its class list. One JSON line per sample is printed; ``--out`` writes them all as one JSON file.
"""
import argparse
import json
import os.path as osp
import sys

import _bootstrap


def parse_args(argv=None):
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('ann_file', help='annotation pickle (pyskl format, a list of samples, or one sample)')
    parser.add_argument('--sample', nargs='+', default=None, metavar='FRAME_DIR', help='samples to score')
    parser.add_argument('--text', nargs='+', default=None, metavar='SENTENCE',
                        help='score against these sentences instead of the class list (text recognizers)')
    parser.add_argument('--topk', type=int, default=5, help='how many labels per sample (default 5)')
    parser.add_argument('--out', help='write the results here (.json); an existing file is not overwritten')
    parser.add_argument('--overwrite', action='store_true', help='allow --out to replace an existing file')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu' or 'cuda:0'")
    parser.add_argument('--unsafe-load', action='store_true',
                        help='fully unpickle the checkpoint (can run code from the file; only for files you trust)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, help='override config entries')
    return parser.parse_args(argv)


def main(argv=None) -> list:
    args = parse_args(argv)
    from pyskl.apis import inference_recognizer, init_recognizer
    from pyskl.apis.inference import class_names_of
    from pyskl.visualization import check_new_files, select_samples, write_json

    if args.out:
        if osp.splitext(args.out)[1].lower() != '.json':
            raise SystemExit(f'--out {args.out}: the results are written as JSON; use a .json file name')
        check_new_files([args.out], args.overwrite)
    samples = select_samples(args.ann_file, args.sample)
    if args.unsafe_load:
        from pyskl.utils.checkpoint import set_unsafe_load
        set_unsafe_load(True)
    model = init_recognizer(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
    names = class_names_of(model)
    results = []
    for sample in samples:
        top = inference_recognizer(model, sample, sentences=args.text, topk=args.topk)
        entry = dict(frame_dir=str(sample.get('frame_dir', '')), label=sample.get('label'))
        if args.text is not None:
            entry['top'] = [dict(sentence=label, score=score) for label, score in top]
        else:
            entry['top'] = [dict(label=label, score=score, **({'name': names[label]} if names else {}))
                            for label, score in top]
        if entry['label'] is not None:
            entry['label'] = int(entry['label'])
        print(json.dumps(entry), flush=True)
        results.append(entry)
    if args.out:
        write_json(args.out, dict(config=args.config, checkpoint=args.checkpoint, text=args.text, results=results))
        print(f'results written to {args.out}', file=sys.stderr)
    return results


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
