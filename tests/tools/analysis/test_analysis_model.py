"""The tools that run a model: embeddings.py and the viewer, on one tiny trained text recognizer."""
import csv
import importlib.util
import json

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from analysis_helpers import load_tool, read_png, shared_tiny_run

from pyskl.apis import inference_recognizer, init_recognizer
from pyskl.apis.inference import class_names_of, prepare_sample
from pyskl.visualization import load_pose_samples


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    return shared_tiny_run(tmp_path_factory)


@pytest.fixture(scope='module')
def model(run):
    return init_recognizer(str(run.config), str(run.checkpoint))


@pytest.mark.slow
def test_embeddings_put_clips_and_sentences_in_one_space(run, model, tmp_path):
    tool = load_tool('analysis/embeddings.py')
    result = tool.main([str(run.config), str(run.checkpoint), '--method', 'pca', '--out-dir', str(tmp_path)])
    feats, labels = result['features'], result['labels']
    assert feats.shape == (18, 8)  # 18 val clips, embed_dim 8
    # each clip's embedding is the clip-averaged joint-space video embedding, recomputed here sample by sample
    samples = {s['frame_dir']: s for s in load_pose_samples(str(run.ann_file))}
    rows = list(csv.DictReader((tmp_path / 'embeddings.csv').open()))
    clips = [r for r in rows if r['kind'] == 'clip']
    sentences = [r for r in rows if r['kind'] == 'sentence']
    assert len(clips) == 18 and len(sentences) == 18
    assert [s['name'] for s in sentences] == class_names_of(model)
    for i, row in enumerate(clips[:3]):
        batch = prepare_sample(model.cfg, samples[row['frame_dir']])
        with torch.no_grad():
            expected = model.encode_video(batch['imgs']).mean(dim=0).numpy()
        np.testing.assert_allclose(feats[i], expected, rtol=1e-4, atol=1e-6)
        assert int(row['label']) == samples[row['frame_dir']]['label'] == labels[i]
    # PCA of clips and sentences together: the coordinates span the top-2 principal axes of the stacked points
    with torch.no_grad():
        text = model.text_branch.class_text_features().numpy()
    stacked = np.concatenate([feats, text])
    centred = stacked - stacked.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2]
    np.testing.assert_allclose(np.abs(result['xy']), np.abs(centred @ axes.T), rtol=1e-4, atol=1e-5)
    # the similarity heatmap: mean cosine of each class's clips with every sentence
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    for c in (0, 5):
        np.testing.assert_allclose(result['similarity'][c], (unit[labels == c] @ text.T).mean(axis=0), rtol=1e-5,
                                   atol=1e-6)
    with (tmp_path / 'similarity.csv').open() as f:
        table = list(csv.reader(f))
    np.testing.assert_allclose(np.array(table[1:])[:, 1:].astype(float), result['similarity'], atol=1e-6)
    assert read_png(tmp_path / 'embeddings.png').shape[0] > 300
    assert read_png(tmp_path / 'similarity.png').shape[0] > 300


def test_embeddings_tsne(run, tmp_path):
    tool = load_tool('analysis/embeddings.py')
    result = tool.main([str(run.config), str(run.checkpoint), '--method', 'tsne', '--max-clips', '10', '--out-dir',
                        str(tmp_path)])
    assert result['xy'].shape == (10 + 18, 2) and np.all(np.isfinite(result['xy']))


def test_viewer_draws_every_frame_with_the_models_top5(run, model, tmp_path):
    tool = load_tool('analysis/visualize.py')
    sample = load_pose_samples(str(run.ann_file))[-1]
    out = tmp_path / 'clip.gif'
    info = tool.main([str(run.ann_file), '--sample', sample['frame_dir'], '--config', str(run.config),
                      '--checkpoint', str(run.checkpoint), '--out', str(out)])
    frames = imageio.mimread(str(out))
    assert len(frames) == sample['total_frames'] == len(info['frames'])
    names = class_names_of(model)
    expected = [(names[label], score) for label, score in inference_recognizer(model, sample, topk=5)]
    sidecar = json.loads((tmp_path / 'clip.gif.json').read_text())
    assert [(t['label'], pytest.approx(t['score'])) for t in sidecar['top5']] == expected
    # the limbs are drawn: the first frame is not blank, and frames differ as the figure moves
    first = np.asarray(frames[0])[..., :3]
    assert (first < 200).any()
    assert any(not np.array_equal(np.asarray(f), np.asarray(frames[0])) for f in frames[1:])


def test_viewer_shows_the_heatmap_volume(run, tmp_path):
    tool = load_tool('analysis/visualize.py')
    out = tmp_path / 'heat.gif'
    info = tool.main([str(run.ann_file), '--config', str(run.config), '--heatmaps', '--out', str(out)])
    num_clips, channels, clip_len, height, width = info['heatmap_shape']
    assert (channels, clip_len, height, width) == (17, 16, 24, 24)
    assert len(imageio.mimread(str(out))) == clip_len
    with pytest.raises(FileExistsError):
        tool.main([str(run.ann_file), '--out', str(out)])


def test_mp4_without_imageio_ffmpeg_says_what_to_install(run, tmp_path, monkeypatch):
    tool = load_tool('analysis/visualize.py')
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'imageio_ffmpeg' else
                        real(name, *a))
    with pytest.raises(SystemExit, match='pip install imageio-ffmpeg'):
        tool.main([str(run.ann_file), '--out', str(tmp_path / 'clip.mp4')])
    assert not (tmp_path / 'clip.mp4').exists()


def test_viewer_fits_3d_skeletons_into_the_frame(tmp_path):
    import pickle
    rng = np.random.default_rng(0)
    keypoint = rng.normal(0, 0.4, (1, 6, 25, 3)).astype(np.float32)  # metres, NTU-style, no img_shape
    keypoint[0, :, 3] = 0  # a missing joint stays missing
    path = tmp_path / 'ntu3d.pkl'
    path.write_bytes(pickle.dumps([dict(frame_dir='S001', label=0, total_frames=6, keypoint=keypoint)]))
    tool = load_tool('analysis/visualize.py')
    fitted, shape = tool.fit_to_frame(keypoint[..., :2])
    inside = fitted[0][:, [i for i in range(25) if i != 3]]
    assert shape == (480, 640)
    assert inside[..., 0].min() >= 0 and inside[..., 0].max() <= 640
    assert inside[..., 1].min() >= 0 and inside[..., 1].max() <= 480
    assert np.all(fitted[0][:, 3] == 0)
    info = tool.main([str(path), '--out', str(tmp_path / 'ntu.gif')])
    assert info['frames'] == list(range(6))
    assert (np.asarray(imageio.mimread(str(tmp_path / 'ntu.gif'))[0])[..., :3] < 200).any()
