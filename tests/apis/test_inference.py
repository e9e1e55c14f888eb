"""init_recognizer / inference_recognizer and tools/infer.py on a tiny trained text recognizer."""
import json

import numpy as np
import pytest
import torch
from analysis_helpers import load_tool, shared_tiny_run
from e2e_utils import write_tiny_config

from pyskl.apis import inference_recognizer, init_recognizer
from pyskl.apis.inference import class_names_of, sample_scores
from pyskl.apis.test import single_gpu_test
from pyskl.datasets.from_config import build_test_loader
from pyskl.visualization import load_pose_samples


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    return shared_tiny_run(tmp_path_factory)


@pytest.fixture(scope='module')
def model(run):
    return init_recognizer(str(run.config), str(run.checkpoint))


@pytest.fixture(scope='module')
def test_scores(run, model):
    """The model's own test scores through the test loader, as tools/test.py computes them."""
    dataset, loader = build_test_loader(model.cfg, distributed=False)
    scores = single_gpu_test(model, loader, show_progress=False)
    samples = {s['frame_dir']: s for s in load_pose_samples(str(run.ann_file))}
    return [samples[info['frame_dir']] for info in dataset.video_infos], np.stack(scores)


def test_checkpoint_weights_are_loaded(run, model):
    saved = torch.load(str(run.checkpoint), weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_class_sentences_give_the_models_own_test_scores(model, test_scores):
    samples, expected = test_scores
    names = class_names_of(model)
    assert len(names) == expected.shape[1] == 18
    for sample, row in zip(samples, expected):
        np.testing.assert_allclose(sample_scores(model, sample), row, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(sample_scores(model, sample, sentences=names), row, rtol=1e-5, atol=1e-7)


def test_topk_is_sorted_and_names_the_sentences(model, test_scores):
    samples, expected = test_scores
    names = class_names_of(model)
    top = inference_recognizer(model, samples[0], topk=5)
    order = np.argsort(-expected[0], kind='stable')[:5]
    assert [label for label, _ in top] == [int(i) for i in order]
    np.testing.assert_allclose([score for _, score in top], expected[0][order], rtol=1e-5)
    top_text = inference_recognizer(model, samples[0], sentences=names, topk=3)
    assert [sentence for sentence, _ in top_text] == [names[i] for i in order[:3]]


def test_scores_follow_the_given_sentences(model, test_scores):
    samples, expected = test_scores
    names = class_names_of(model)
    perm = np.random.default_rng(0).permutation(len(names))
    scores = sample_scores(model, samples[1], sentences=[names[i] for i in perm])
    np.testing.assert_allclose(scores, expected[1][perm], rtol=1e-5, atol=1e-7)
    # the class list is back after the open-vocabulary call
    assert class_names_of(model) == names
    np.testing.assert_allclose(sample_scores(model, samples[1]), expected[1], rtol=1e-5, atol=1e-7)


def test_long_sentences_are_not_truncated(model, test_scores):
    samples, _ = test_scores
    stem = 'a person slowly raises the right arm above the head and then'
    scores = sample_scores(model, samples[0], sentences=[stem + ' waves', stem + ' kicks with the left leg'])
    assert scores.shape == (2, )
    assert abs(scores[0] - scores[1]) > 1e-7  # the words past the 10th token change the embedding


def test_class_subset_is_lifted_for_sentences_only(model, test_scores):
    samples, _ = test_scores
    model.test_cfg['class_subset'] = [0, 1, 2]
    try:
        restricted = sample_scores(model, samples[0])
        assert np.all(restricted[3:] == 0) and np.isclose(restricted.sum(), 1)
        free = sample_scores(model, samples[0], sentences=['jumping up', 'clapping hands', 'bowing', 'squatting'])
        assert free.shape == (4, ) and np.all(free > 0)
        assert model.test_cfg['class_subset'] == [0, 1, 2]
    finally:
        model.test_cfg.pop('class_subset')


def test_sample_without_split_or_label(model, test_scores):
    samples, expected = test_scores
    bare = {k: samples[0][k] for k in ('keypoint', 'keypoint_score', 'img_shape')}
    np.testing.assert_allclose(sample_scores(model, bare), expected[0], rtol=1e-5, atol=1e-7)


def test_bad_samples_name_the_problem(model, test_scores):
    samples, _ = test_scores
    no_shape = {k: v for k, v in samples[0].items() if k != 'img_shape'}
    with pytest.raises(KeyError, match='img_shape'):
        sample_scores(model, no_shape)
    flat = dict(samples[0], keypoint=samples[0]['keypoint'][0])
    with pytest.raises(ValueError, match=r'\[M, T, V, 2\]'):
        sample_scores(model, flat)


def test_posec3d_has_no_open_vocabulary_and_checkpoints_must_fit(run, tmp_path):
    config = write_tiny_config(tmp_path / 'posec3d.py', run.ann_file,
                               extra="model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), "
                                     'cls_head=dict(in_channels=64))')
    posec3d = init_recognizer(str(config))
    sample = load_pose_samples(str(run.ann_file))[0]
    assert len(inference_recognizer(posec3d, sample, topk=3)) == 3
    with pytest.raises(TypeError, match='no text branch'):
        inference_recognizer(posec3d, sample, sentences=['waving'])
    with pytest.raises(RuntimeError, match='does not fit'):
        init_recognizer(str(config), str(run.checkpoint))


def test_infer_tool_writes_json_and_keeps_existing_files(run, model, test_scores, tmp_path, capsys):
    infer = load_tool('infer.py')
    samples, expected = test_scores
    names = class_names_of(model)
    out = tmp_path / 'results.json'
    frame_dir = samples[2]['frame_dir']
    infer.main([str(run.config), str(run.checkpoint), str(run.ann_file), '--sample', frame_dir, '--topk', '2',
                '--out', str(out)])
    result = json.loads(out.read_text())['results'][0]
    order = np.argsort(-expected[2], kind='stable')[:2]
    assert result['frame_dir'] == frame_dir
    assert [t['name'] for t in result['top']] == [names[i] for i in order]
    np.testing.assert_allclose([t['score'] for t in result['top']], expected[2][order], rtol=1e-5)
    infer.main([str(run.config), str(run.checkpoint), str(run.ann_file), '--sample', frame_dir, '--text',
                names[order[0]], 'a completely different sentence'])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {t['sentence'] for t in line['top']} == {names[order[0]], 'a completely different sentence'}
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match='--overwrite'):
        infer.main([str(run.config), str(run.checkpoint), str(run.ann_file), '--out', str(out)])
    assert out.read_bytes() == before
    with pytest.raises(ValueError, match='no sample with frame_dir'):
        infer.main([str(run.config), str(run.checkpoint), str(run.ann_file), '--sample', 'nope'])


TINY_TEXT = ("text_encoder=dict(_delete_=True, type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, "
             "num_attention_heads=2, intermediate_size=32, vocab_size=30524{cross})), text_encoder_init=None, "
             'embed_dim=8')
TINY_VARIANTS = {
    'itm': ('configs/demo/visece_itm_minilm_synthetic.py',
            'model = dict(video_encoder=dict(res_out_channels=64, output_channels=16, base_channels=4, '
            'stage_blocks=(1, 1, 1)), itm_dim=16, ' + TINY_TEXT.format(cross=', add_cross_attention=True, '
                                                                         'encoder_width=16') + ')'),
    'mo': ('configs/demo/visece_mo_minilm_synthetic.py',
           'model = dict(video_encoder=dict(res_out_channels=64, output_channels=16, base_channels=4, '
           'stage_blocks=(1, 1, 1)), queue_size=8, ' + TINY_TEXT.format(cross='') + ')'),
    'pacl': ('configs/demo/visece_pacl_minilm_synthetic.py',
             'model = dict(video_encoder=dict(res_out_channels=64, base_channels=4, stage_blocks=(1, 1, 1)), '
             + TINY_TEXT.format(cross='') + ')'),
}


@pytest.mark.parametrize('variant', sorted(TINY_VARIANTS))
def test_every_text_recognizer_scores_its_class_sentences_as_it_tests(variant, run, tmp_path):
    base, extra = TINY_VARIANTS[variant]
    config = write_tiny_config(tmp_path / f'{variant}.py', run.ann_file, base=base, extra=extra)
    torch.manual_seed(0)
    recognizer = init_recognizer(str(config))
    dataset, loader = build_test_loader(recognizer.cfg, distributed=False)
    expected = np.stack(single_gpu_test(recognizer, loader, show_progress=False))
    samples = {s['frame_dir']: s for s in load_pose_samples(str(run.ann_file))}
    names = class_names_of(recognizer)
    for index in (0, 7):
        sample = samples[dataset.video_infos[index]['frame_dir']]
        assert np.ptp(expected[index]) > 2e-6  # the classes' scores differ by more than the tolerance
        np.testing.assert_allclose(sample_scores(recognizer, sample, sentences=names), expected[index], rtol=1e-5,
                                   atol=1e-7)
        reversed_scores = sample_scores(recognizer, sample, sentences=names[::-1])
        np.testing.assert_allclose(reversed_scores, expected[index][::-1], rtol=1e-5, atol=1e-7)


def test_checkpoint_stands_in_for_missing_bert_base_weights(run, model, test_scores, tmp_path):
    from pyskl.models.text import find_in_hf_cache
    if find_in_hf_cache('bert-base-uncased') is not None:
        pytest.skip('bert-base-uncased is in the local Hugging Face cache: its weights would be loaded')
    config = tmp_path / 'bert_base_init.py'
    config.write_text(f"_base_ = [{str(run.config)!r}]\nmodel = dict(text_encoder_init='bert-base-uncased')\n")
    with pytest.raises(FileNotFoundError, match='bert-base-uncased'):
        init_recognizer(str(config))  # no checkpoint: the weights are needed
    recognizer = init_recognizer(str(config), str(run.checkpoint))
    samples, expected = test_scores
    np.testing.assert_allclose(sample_scores(recognizer, samples[0]), expected[0], rtol=1e-5, atol=1e-7)


def test_infer_loads_a_checkpoint_with_objects_only_with_unsafe_load(run, model, tmp_path, capsys):
    import argparse

    from pyskl.utils.checkpoint import CheckpointError, set_unsafe_load
    checkpoint = torch.load(str(run.checkpoint), map_location='cpu', weights_only=True)
    checkpoint['meta'] = dict(checkpoint.get('meta', {}), args=argparse.Namespace(lr=0.1))  # an object, not data
    unsafe = tmp_path / 'with_objects.pth'
    torch.save(checkpoint, str(unsafe))
    infer = load_tool('infer.py')
    frame_dir = load_pose_samples(str(run.ann_file))[0]['frame_dir']
    args = [str(run.config), str(unsafe), str(run.ann_file), '--sample', frame_dir, '--topk', '1']
    with pytest.raises((CheckpointError, RuntimeError), match='unsafe'):
        infer.main(args)
    try:
        results = infer.main(args + ['--unsafe-load'])
    finally:
        set_unsafe_load(False)
    assert results and results[0]['frame_dir'] == frame_dir
