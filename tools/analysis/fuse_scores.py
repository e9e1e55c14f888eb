"""Two-stream (or n-stream) score fusion as pyskl reports it: the weighted sum of the per-sample test scores.

    python tools/test.py joint.py -C joint.pth --out joint.pkl
    python tools/test.py limb.py -C limb.pth --out limb.pkl
    python tools/analysis/fuse_scores.py joint.pkl limb.pkl --weights 1 1 --config joint.py [--out fused.pkl]

``fused[i] = sum_k weights[k] * scores_k[i]`` (``--apply-softmax`` first turns raw scores into probabilities, as
mmaction2's report_accuracy does; tools/test.py already writes probabilities with ``average_clips='prob'``). The
labels come from the test set of ``--config``, or from ``--ann-file`` with ``--split``. Writes ``fusion.png`` and
``fusion.json`` (top-1 / top-5 / mean class accuracy of each stream and of the fusion) to ``--out-dir``.
"""
import argparse
import os.path as osp
import sys
from typing import Sequence

import numpy as np
from scipy.special import softmax

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402


def fuse(scores: Sequence[np.ndarray], weights: Sequence[float], apply_softmax: bool = False) -> np.ndarray:
    """The weighted sum of the streams' [N, C] score matrices."""
    if len(scores) != len(weights):
        raise ValueError(f'{len(scores)} score files but {len(weights)} weights; give one weight per file')
    shapes = {s.shape for s in scores}
    if len(shapes) != 1:
        raise ValueError(f'the score files have different shapes {sorted(shapes)}; fuse runs on the same test set')
    fused = np.zeros_like(scores[0], dtype=np.float64)
    for stream, weight in zip(scores, weights):
        fused += float(weight) * (softmax(stream, axis=1) if apply_softmax else stream)
    return fused


def metrics(scores: np.ndarray, labels: np.ndarray) -> dict:
    from pyskl.core.evaluation import mean_class_accuracy, top_k_accuracy
    k = min(5, scores.shape[1])
    top1, topk = top_k_accuracy(scores, labels, (1, k))
    return {'top1_acc': top1, f'top{k}_acc': topk, 'mean_class_accuracy': mean_class_accuracy(scores, labels)}


def plot_fusion(table: dict, out_png: str) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    names = list(table)
    keys = list(next(iter(table.values())))
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3, 3.8))
    width = 0.8 / len(keys)
    for j, key in enumerate(keys):
        values = [table[n][key] for n in names]
        bars = ax.bar(np.arange(len(names)) + j * width, values, width, label=key)
        for bar, value in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, value, f'{value:.3f}', ha='center', va='bottom', fontsize=7)
    ax.set_xticks(np.arange(len(names)) + width * (len(keys) - 1) / 2)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.legend(fontsize=7)
    ax.set_title('score fusion')
    save_figure(fig, out_png)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('scores', nargs='+', help='score pickles of tools/test.py --out, one per stream')
    parser.add_argument('--weights', nargs='+', type=float, default=None, help='one weight per file (default 1)')
    parser.add_argument('--config', help='config whose test set gives the labels')
    parser.add_argument('--ann-file', help='annotation pickle giving the labels (with --split)')
    parser.add_argument('--split', help='split of --ann-file')
    parser.add_argument('--apply-softmax', action='store_true', help='softmax each stream before the sum')
    parser.add_argument('--out', help='write the fused scores here (.pkl / .json, as tools/test.py --out)')
    parser.add_argument('--out-dir', help='where fusion.png / fusion.json go (default: the first file\'s folder)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    args = parser.parse_args(argv)
    from pyskl.apis.inference import load_config
    from pyskl.datasets import PoseDataset
    from pyskl.visualization import check_new_files, write_json
    from pyskl.visualization.labels import load_scores, test_labels

    weights = args.weights if args.weights is not None else [1.0] * len(args.scores)
    if (args.config is None) == (args.ann_file is None):
        raise SystemExit('give the labels with --config CONFIG or with --ann-file ANN.pkl --split NAME')
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.scores[0]))
    outputs = [osp.join(out_dir, 'fusion.png'), osp.join(out_dir, 'fusion.json')] + ([args.out] if args.out else [])
    check_new_files(outputs, args.overwrite)
    if args.config:
        labels = test_labels(load_config(args.config))
    else:
        labels = np.asarray(PoseDataset(args.ann_file, pipeline=None, split=args.split, test_mode=True).labels)
    streams = [load_scores(path, len(labels)) for path in args.scores]
    fused = fuse(streams, weights, args.apply_softmax)
    names = [osp.splitext(osp.basename(p))[0] for p in args.scores]
    if len(set(names)) != len(names):
        names = [f'{i}: {n}' for i, n in enumerate(names)]
    table = {name: metrics(s, labels) for name, s in zip(names, streams)}
    table['fused'] = metrics(fused, labels)
    plot_fusion(table, outputs[0])
    write_json(outputs[1], dict(scores=list(args.scores), weights=weights, apply_softmax=args.apply_softmax,
                                num_clips=int(len(labels)), metrics=table))
    if args.out:
        PoseDataset.dump_results([row for row in fused], args.out)
    for name, values in table.items():
        print(name + ': ' + ', '.join(f'{k} {v:.4f}' for k, v in values.items()))
    print(f'fusion: {outputs[0]}, {outputs[1]}' + (f', fused scores in {args.out}' if args.out else ''))
    return dict(metrics=table, fused=fused)


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
