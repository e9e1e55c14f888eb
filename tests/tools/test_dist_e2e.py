"""Two CPU processes through tools/dist_train.sh (gloo): DistEvalHook scores equal a one-process test."""
import pickle
import shutil

import numpy as np
import pytest
from e2e_utils import (
    REPO_ROOT,
    last_json_line,
    make_tiny_dataset,
    python_tool,
    read_json_log,
    run_tool,
    write_tiny_config,
)

TINY_MODELS = {
    'configs/demo/posec3d_synthetic.py':
    "model = dict(backbone=dict(base_channels=4, stage_blocks=(1, 1, 1)), cls_head=dict(in_channels=64))\n",
    'configs/demo/visece_minilm_synthetic.py':
    "model = dict(video_encoder=dict(base_channels=4, stage_blocks=(1, 1, 1), res_out_channels=64))\n",
}
TINY = """data['val']['split'] = 'val_odd'
data['test'].update(split='val_odd', pipeline={{_base_.val_pipeline}})
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 5), save_best=None)
"""


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
@pytest.mark.parametrize('base', sorted(TINY_MODELS))
def test_dist_train_eval_matches_single_process(tmp_path, base):
    ann = make_tiny_dataset(tmp_path / 'tiny.pkl')
    with open(ann, 'rb') as f:
        data = pickle.load(f)
    data['split']['val_odd'] = data['split']['val'][:-1]  # 17 samples: does not divide by 2
    with open(ann, 'wb') as f:
        pickle.dump(data, f)
    config = write_tiny_config(tmp_path / 'tiny_dist.py', ann, base=base, extra=TINY_MODELS[base] + TINY)
    work_dir = tmp_path / 'work'
    run_tool(['bash', str(REPO_ROOT / 'tools' / 'dist_train.sh'), str(config), '2', '--validate', '--seed', '0',
              '--work-dir', str(work_dir)], cwd=REPO_ROOT)
    val = [r for r in read_json_log(work_dir) if r['mode'] == 'val']
    assert len(val) == 2
    for epoch, record in zip((1, 2), val):
        out = run_tool(python_tool('test.py') + [str(config), '-C', str(work_dir / f'epoch_{epoch}.pth'), '--eval',
                                                'top_k_accuracy', 'mean_class_accuracy'], cwd=REPO_ROOT)
        single = last_json_line(out)
        for key in ('top1_acc', 'top5_acc', 'mean_class_accuracy'):
            assert record[key] == pytest.approx(single[key], abs=1e-4), (epoch, key)

    # the per-sample scores of a 2-process test come back in dataset order
    dist_out, single_out = tmp_path / 'dist.pkl', tmp_path / 'single.pkl'
    run_tool(['bash', str(REPO_ROOT / 'tools' / 'dist_test.sh'), str(config), str(work_dir / 'epoch_2.pth'), '2',
              '--out', str(dist_out)], cwd=REPO_ROOT)
    run_tool(python_tool('test.py') + [str(config), '-C', str(work_dir / 'epoch_2.pth'), '--out', str(single_out)],
             cwd=REPO_ROOT)
    with open(dist_out, 'rb') as f:
        dist_scores = np.stack(pickle.load(f))
    with open(single_out, 'rb') as f:
        single_scores = np.stack(pickle.load(f))
    assert dist_scores.shape == single_scores.shape == (17, 18)
    np.testing.assert_allclose(dist_scores, single_scores, rtol=1e-4, atol=1e-6)
