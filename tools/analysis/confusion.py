"""The confusion matrix of a test run, labelled with the class sentences, with per-class accuracy.

    python tools/test.py CONFIG -C CKPT --out scores.pkl
    python tools/analysis/confusion.py CONFIG scores.pkl [--class-list lists/x.csv] [--pairs 10] [--out-dir DIR]

Rows are the true classes, columns the predicted ones (top-1), each row normalised to sum 1 in the plot. Writes
``confusion.png``, ``confusion.csv`` (the counts, one row per true class) and ``confusion.json`` (counts, top-1,
mean class accuracy, per-class accuracy and the most confused pairs) to ``--out-dir`` (default: next to the
scores).
"""
import argparse
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402


def confusion_summary(scores: np.ndarray, labels: np.ndarray, names, pairs: int = 10) -> dict:
    """Counts [C, C] (true x predicted), their row-normalised form, per-class accuracy, the most confused pairs."""
    from pyskl.core.evaluation import confusion_matrix, mean_class_accuracy, top_k_accuracy
    num_classes = scores.shape[1]
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'labels range from {labels.min()} to {labels.max()} but the scores have {num_classes} '
                         'classes')
    pred = scores.argmax(axis=1)
    counts = confusion_matrix(pred, labels, num_classes=num_classes)
    normalized = confusion_matrix(pred, labels, normalize='true', num_classes=num_classes)
    support = counts.sum(axis=1)
    per_class = []
    for i in range(num_classes):
        acc = float(counts[i, i] / support[i]) if support[i] else None
        per_class.append(dict(label=i, name=names[i], clips=int(support[i]), accuracy=acc))
    off = [(int(counts[i, j]), i, j) for i in range(num_classes) for j in range(num_classes)
           if i != j and counts[i, j] > 0]
    off.sort(key=lambda t: (-t[0], t[1], t[2]))
    confused = [dict(true=i, true_name=names[i], predicted=j, predicted_name=names[j], clips=c,
                     fraction_of_true=float(c / support[i])) for c, i, j in off[:pairs]]
    return dict(num_clips=int(len(labels)), top1_acc=top_k_accuracy(scores, labels, (1, ))[0],
                mean_class_accuracy=mean_class_accuracy(scores, labels), class_names=list(names),
                per_class=per_class, most_confused=confused, counts=counts.tolist(),
                normalized=normalized.tolist())


def plot_confusion(summary: dict, out_png: str, title: str) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    matrix = np.asarray(summary['normalized'])
    names = summary['class_names']
    size = max(6.0, 0.45 * len(names) + 3)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(matrix, cmap='Blues', vmin=0, vmax=1)
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    if len(names) <= 30:
        for i in range(len(names)):
            for j in range(len(names)):
                if matrix[i, j] > 0:
                    ax.text(j, i, f'{matrix[i, j]:.2f}', ha='center', va='center', fontsize=5,
                            color='white' if matrix[i, j] > 0.5 else 'black')
    ax.set_title(f'{title}\ntop-1 {summary["top1_acc"]:.3f}, mean class accuracy '
                 f'{summary["mean_class_accuracy"]:.3f} ({summary["num_clips"]} clips)', fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    save_figure(fig, out_png)


def main(argv=None) -> dict:
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the scores were computed with (its test set gives the labels)')
    parser.add_argument('scores', help='scores pickle written by tools/test.py --out')
    parser.add_argument('--class-list', help='class sentences CSV (default: the model\'s text_lists)')
    parser.add_argument('--pairs', type=int, default=10, help='how many most-confused pairs to report')
    parser.add_argument('--out-dir', help='output folder (default: the folder of the scores file)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, help='override config entries')
    args = parser.parse_args(argv)
    from pyskl.apis.inference import load_config
    from pyskl.visualization import check_new_files, write_csv, write_json
    from pyskl.visualization.labels import class_names, load_scores, test_labels

    out_dir = args.out_dir or osp.dirname(osp.abspath(args.scores))
    outputs = [osp.join(out_dir, f'confusion.{ext}') for ext in ('png', 'csv', 'json')]
    check_new_files(outputs, args.overwrite)
    cfg = load_config(args.config, args.cfg_options)
    labels = test_labels(cfg)
    scores = load_scores(args.scores, len(labels))
    names = class_names(cfg, scores.shape[1], args.class_list)
    summary = confusion_summary(scores, labels, names, args.pairs)
    plot_confusion(summary, outputs[0], osp.basename(args.config))
    write_csv(outputs[1], ['true \\ predicted'] + names,
              ([names[i]] + row for i, row in enumerate(summary['counts'])))
    write_json(outputs[2], summary)
    print(f'confusion matrix: {outputs[0]} (top-1 {summary["top1_acc"]:.4f} over {summary["num_clips"]} clips; '
          f'numbers in {outputs[1]}, {outputs[2]})')
    for pair in summary['most_confused'][:3]:
        print(f'  {pair["true_name"]!r} -> {pair["predicted_name"]!r}: {pair["clips"]} clips')
    return summary


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
