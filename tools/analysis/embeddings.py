"""A 2D map of what a model learned: clip embeddings by class, the class sentences in the same space.

    python tools/analysis/embeddings.py CONFIG CKPT [--method tsne|pca] [--max-clips 2000] [--out-dir DIR]

Clip embeddings are the model's test-time features of ``cfg.data.test`` (``test_cfg feat_ext``: the clip-averaged
joint-space video embedding of a text-supervised recognizer, the pooled backbone features of PoseC3D). For a text
recognizer the class sentence embeddings (its text branch) are projected with the clips, by one t-SNE (scikit-learn)
or PCA fit on both, and ``similarity.png`` shows the mean cosine similarity of each class's clips to every sentence.
Writes ``embeddings.png``, ``embeddings.csv`` (kind, index, frame_dir, label, name, x, y) and, for text
recognizers, ``similarity.png`` / ``similarity.csv`` to ``--out-dir`` (default: next to the checkpoint).
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Tuple

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _bootstrap  # noqa: E402


def clip_embeddings(model, cfg, max_clips: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, list]:
    """Features [N, D], labels [N] and frame_dirs of the test set (the first ``max_clips`` samples)."""
    import torch

    from pyskl.apis.test import single_gpu_test
    from pyskl.datasets.from_config import build_test_loader
    dataset, loader = build_test_loader(cfg, distributed=False)
    if max_clips is not None and max_clips < len(dataset):
        subset = torch.utils.data.Subset(dataset, range(max_clips))
        loader = torch.utils.data.DataLoader(subset, batch_size=loader.batch_size, collate_fn=loader.collate_fn)
    previous = model.feat_ext
    model.feat_ext = True
    try:
        feats = np.stack(single_gpu_test(model, loader, show_progress=False))
    finally:
        model.feat_ext = previous
    count = len(feats)
    labels = np.asarray(dataset.labels[:count], dtype=np.int64)
    frame_dirs = [str(info.get('frame_dir', i)) for i, info in enumerate(dataset.video_infos[:count])]
    return feats, labels, frame_dirs


def sentence_embeddings(model) -> Optional[np.ndarray]:
    """The class sentences in the joint space [L, D] (None for a recognizer without text branch)."""
    import torch
    branch = getattr(model, 'text_branch', None)
    if branch is None:
        return None
    with torch.no_grad():
        return branch.class_text_features().detach().cpu().numpy()


def project_2d(points: np.ndarray, method: str, seed: int = 0, perplexity: Optional[float] = None) -> np.ndarray:
    """[N, D] -> [N, 2] by PCA or t-SNE (scikit-learn)."""
    if method == 'pca':
        from sklearn.decomposition import PCA
        return PCA(n_components=2, random_state=seed).fit_transform(points)
    if method == 'tsne':
        from sklearn.manifold import TSNE
        if len(points) < 3:
            raise ValueError(f't-SNE needs at least 3 points, got {len(points)}; use --method pca')
        perplexity = perplexity or min(30.0, (len(points) - 1) / 3)
        return TSNE(n_components=2, perplexity=perplexity, init='pca', random_state=seed).fit_transform(points)
    raise ValueError(f'--method {method!r}: use tsne or pca')


def class_similarity(feats: np.ndarray, labels: np.ndarray, sentences: np.ndarray, num_classes: int) -> np.ndarray:
    """Mean cosine similarity of the clips of each class (rows, NaN when a class has no clip) to each sentence."""
    clips = feats / np.linalg.norm(feats, axis=1, keepdims=True).clip(min=1e-12)
    text = sentences / np.linalg.norm(sentences, axis=1, keepdims=True).clip(min=1e-12)
    sim = clips @ text.T
    table = np.full((num_classes, text.shape[0]), np.nan)
    for c in range(num_classes):
        if np.any(labels == c):
            table[c] = sim[labels == c].mean(axis=0)
    return table


def plot_map(xy_clips, labels, xy_text, names, out_png, title) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    cmap = plt.get_cmap('tab20')
    fig, ax = plt.subplots(figsize=(9, 7))
    for c in range(len(names)):
        mask = labels == c
        if mask.any():
            ax.scatter(xy_clips[mask, 0], xy_clips[mask, 1], s=12, color=cmap(c % 20), alpha=0.7, label=names[c])
    if xy_text is not None:
        for c, (x, y) in enumerate(xy_text):
            ax.scatter([x], [y], marker='*', s=220, color=cmap(c % 20), edgecolors='black', linewidths=0.8)
            ax.annotate(names[c], (x, y), fontsize=6, xytext=(4, 4), textcoords='offset points')
    ax.set_title(title + ('  (stars: class sentences)' if xy_text is not None else ''), fontsize=9)
    ax.legend(fontsize=6, markerscale=1.5, loc='center left', bbox_to_anchor=(1.01, 0.5))
    save_figure(fig, out_png)


def plot_similarity(table, names, out_png, title) -> None:
    from pyskl.visualization import pyplot, save_figure
    plt = pyplot()
    size = max(6.0, 0.45 * len(names) + 3)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(np.ma.masked_invalid(table), cmap='viridis')
    ax.set_xticks(range(table.shape[1]))
    ax.set_yticks(range(table.shape[0]))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel('class sentence')
    ax.set_ylabel('clips of class')
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='mean cosine similarity')
    save_figure(fig, out_png)


def main(argv=None) -> dict:
    from mmcv import DictAction
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--method', choices=['tsne', 'pca'], default='tsne', help='2D projection (default tsne)')
    parser.add_argument('--perplexity', type=float, default=None, help='t-SNE perplexity (default min(30, N/3))')
    parser.add_argument('--max-clips', type=int, default=None, help='use only the first N test samples')
    parser.add_argument('--class-list', help='class sentences CSV for the labels (default: the model\'s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='fully unpickle the checkpoint (can run code from the file; only for files you trust)')
    parser.add_argument('--out-dir', help='output folder (default: <checkpoint folder>/analysis)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing output files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, help='override config entries')
    args = parser.parse_args(argv)
    from pyskl.apis.inference import init_recognizer
    from pyskl.visualization import check_new_files, write_csv
    from pyskl.visualization.labels import class_names

    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), 'analysis')
    outputs = {name: osp.join(out_dir, name) for name in ('embeddings.png', 'embeddings.csv', 'similarity.png',
                                                         'similarity.csv')}
    check_new_files(outputs.values(), args.overwrite)
    if args.unsafe_load:
        from pyskl.utils.checkpoint import set_unsafe_load
        set_unsafe_load(True)
    model = init_recognizer(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
    feats, labels, frame_dirs = clip_embeddings(model, model.cfg, args.max_clips)
    sentences = sentence_embeddings(model)
    if sentences is not None:
        num_classes = len(sentences)
        if sentences.shape[1] != feats.shape[1]:
            raise ValueError(f'clip embeddings are {feats.shape[1]}-d but sentence embeddings {sentences.shape[1]}-d')
    else:
        num_classes = int(max(labels.max() + 1, getattr(getattr(model, 'cls_head', None), 'num_classes', 0)))
    names = class_names(model.cfg, num_classes, args.class_list)
    points = feats if sentences is None else np.concatenate([feats, sentences])
    xy = project_2d(points, args.method, args.seed, args.perplexity)
    xy_clips, xy_text = xy[:len(feats)], (xy[len(feats):] if sentences is not None else None)
    title = f'{osp.basename(args.config)}: {len(feats)} clips, {args.method}'
    plot_map(xy_clips, labels, xy_text, names, outputs['embeddings.png'], title)
    rows = [('clip', i, frame_dirs[i], int(labels[i]), names[labels[i]], *xy_clips[i]) for i in range(len(feats))]
    if xy_text is not None:
        rows += [('sentence', c, '', c, names[c], *xy_text[c]) for c in range(num_classes)]
    write_csv(outputs['embeddings.csv'], ('kind', 'index', 'frame_dir', 'label', 'name', 'x', 'y'), rows)
    result = dict(features=feats, labels=labels, xy=xy, names=names)
    print(f'embedding map: {outputs["embeddings.png"]} (coordinates in {outputs["embeddings.csv"]})')
    if sentences is not None:
        table = class_similarity(feats, labels, sentences, num_classes)
        plot_similarity(table, names, outputs['similarity.png'], f'{osp.basename(args.config)}: clip-to-sentence '
                        'similarity')
        write_csv(outputs['similarity.csv'], ['clips of class \\ sentence'] + names,
                  ([names[c]] + ['' if np.isnan(v) else f'{v:.6f}' for v in table[c]] for c in range(num_classes)))
        result['similarity'] = table
        print(f'similarity heatmap: {outputs["similarity.png"]} (numbers in {outputs["similarity.csv"]})')
    return result


if __name__ == '__main__':
    _bootstrap.run_cli(main, user_errors=_bootstrap.file_errors())
