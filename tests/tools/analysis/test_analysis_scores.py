"""tools/analysis/confusion.py and fuse_scores.py on test scores of a tiny synthetic test set."""
import csv
import json
import pickle

import numpy as np
import pytest
from analysis_helpers import load_tool, read_png
from e2e_utils import make_tiny_dataset, write_tiny_config

from pyskl.core.evaluation import mean_class_accuracy, top_k_accuracy
from pyskl.datasets import PoseDataset
from pyskl.utils.class_lists import load_class_list


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('scores')
    ann = make_tiny_dataset(root / 'tiny.pkl', train_per_class=1, val_per_class=3)
    config = write_tiny_config(root / 'visece.py', ann, base='configs/demo/visece_minilm_synthetic.py')
    labels = np.asarray(PoseDataset(str(ann), pipeline=None, split='val', test_mode=True).labels)
    rng = np.random.default_rng(0)
    streams = []
    for k in range(2):
        scores = rng.dirichlet(np.ones(18), size=len(labels))
        scores[np.arange(len(labels)), labels] += 0.15 * (k + 1)  # better than chance, not perfect
        path = root / f'stream{k}.pkl'
        path.write_bytes(pickle.dumps([row.astype(np.float32) for row in scores]))
        streams.append((path, scores.astype(np.float32)))
    return root, config, labels, streams


def test_confusion_counts_every_clip_once_and_its_diagonal_is_top1(setup, tmp_path):
    root, config, labels, streams = setup
    path, scores = streams[0]
    tool = load_tool('analysis/confusion.py')
    summary = tool.main([str(config), str(path), '--out-dir', str(tmp_path)])
    counts = np.asarray(summary['counts'])
    assert counts.shape == (18, 18)
    assert counts.sum() == len(labels) == 54
    pred = scores.argmax(axis=1)
    assert np.trace(counts) == int((pred == labels).sum())
    assert summary['top1_acc'] == pytest.approx(np.trace(counts) / len(labels))
    assert summary['top1_acc'] == pytest.approx(top_k_accuracy(scores, labels, (1, ))[0])
    assert summary['mean_class_accuracy'] == pytest.approx(mean_class_accuracy(scores, labels))
    for row in summary['per_class']:
        assert row['clips'] == 3
        assert row['accuracy'] == pytest.approx(counts[row['label'], row['label']] / 3)
    assert np.allclose(np.asarray(summary['normalized']).sum(axis=1), 1)
    pairs = summary['most_confused']
    assert [p['clips'] for p in pairs] == sorted((p['clips'] for p in pairs), reverse=True)
    off = counts - np.diag(np.diag(counts))
    assert pairs[0]['clips'] == off.max() and counts[pairs[0]['true'], pairs[0]['predicted']] == off.max()
    names = load_class_list('lists/synthetic.csv')
    with (tmp_path / 'confusion.csv').open() as f:
        table = list(csv.reader(f))
    assert table[0][1:] == names
    assert [[int(v) for v in row[1:]] for row in table[1:]] == counts.tolist()
    assert json.loads((tmp_path / 'confusion.json').read_text())['num_clips'] == 54
    assert read_png(tmp_path / 'confusion.png').shape[0] > 300


def test_confusion_reads_json_scores_too(setup, tmp_path):
    root, config, labels, streams = setup
    path, scores = streams[1]
    as_json = tmp_path / 'scores.json'
    as_json.write_text(json.dumps(scores.tolist()))
    tool = load_tool('analysis/confusion.py')
    summary = tool.main([str(config), str(as_json), '--out-dir', str(tmp_path)])
    assert summary['top1_acc'] == pytest.approx(top_k_accuracy(scores, labels, (1, ))[0])


def test_confusion_refuses_scores_of_another_test_set(setup, tmp_path):
    root, config, labels, _ = setup
    short = tmp_path / 'short.pkl'
    short.write_bytes(pickle.dumps([np.ones(18, np.float32)] * 5))
    tool = load_tool('analysis/confusion.py')
    with pytest.raises(ValueError, match='has 5 samples but the test set has 54'):
        tool.main([str(config), str(short), '--out-dir', str(tmp_path)])


def test_fused_scores_are_the_weighted_sum(setup, tmp_path):
    root, config, labels, streams = setup
    tool = load_tool('analysis/fuse_scores.py')
    fused_path = tmp_path / 'fused.pkl'
    result = tool.main([str(streams[0][0]), str(streams[1][0]), '--weights', '2', '0.5', '--config', str(config),
                        '--out', str(fused_path), '--out-dir', str(tmp_path)])
    expected = 2 * streams[0][1].astype(np.float64) + 0.5 * streams[1][1].astype(np.float64)
    np.testing.assert_allclose(result['fused'], expected, rtol=1e-12)
    with fused_path.open('rb') as f:
        np.testing.assert_allclose(np.stack(pickle.load(f)), expected, rtol=1e-12)
    report = json.loads((tmp_path / 'fusion.json').read_text())
    top1, top5 = top_k_accuracy(expected, labels, (1, 5))
    assert report['metrics']['fused']['top1_acc'] == pytest.approx(top1)
    assert report['metrics']['fused']['top5_acc'] == pytest.approx(top5)
    assert report['metrics']['stream0']['top1_acc'] == pytest.approx(top_k_accuracy(streams[0][1], labels, (1, ))[0])
    assert read_png(tmp_path / 'fusion.png').shape[1] > 200


def test_fusion_with_softmax_labels_from_the_annotation_file(setup, tmp_path):
    root, config, labels, streams = setup
    tool = load_tool('analysis/fuse_scores.py')
    result = tool.main([str(streams[0][0]), str(streams[1][0]), '--ann-file', str(root / 'tiny.pkl'), '--split',
                        'val', '--apply-softmax', '--out-dir', str(tmp_path)])
    soft = [np.exp(s - s.max(1, keepdims=True)) / np.exp(s - s.max(1, keepdims=True)).sum(1, keepdims=True)
            for _, s in streams]
    np.testing.assert_allclose(result['fused'], soft[0] + soft[1], rtol=1e-6)
    with pytest.raises(ValueError, match='2 score files but 3 weights'):
        tool.main([str(streams[0][0]), str(streams[1][0]), '--weights', '1', '1', '1', '--config', str(config),
                   '--out-dir', str(tmp_path / 'x')])
