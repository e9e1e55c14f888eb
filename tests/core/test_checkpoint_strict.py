"""Checkpoints hold exactly the model's persistent state, load strictly, and carry what an exact resume needs."""
import logging
import random

import numpy as np
import pytest
import torch

from pyskl.core.runner import EpochRunner, RngStateHook
from pyskl.utils.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_checkpoint_file,
    load_state_dict_checked,
    save_checkpoint_atomic,
)


class WithBuffers(torch.nn.Module):
    """A head and two buffers: one saved, one not (like a text branch's tokenized class sentences)."""

    def __init__(self, classes=3):
        super().__init__()
        self.fc = torch.nn.Linear(4, classes)
        self.register_buffer('count', torch.zeros(1))
        self.register_buffer('class_input_ids', torch.arange(6).view(2, 3), persistent=False)

    def train_step(self, data, optimizer):
        return dict(loss=self.fc(data).sum(), log_vars={}, num_samples=len(data))


def test_non_persistent_buffers_are_not_saved(tmp_path):
    save_checkpoint_atomic(WithBuffers(), str(tmp_path / 'a.pth'))
    state = load_checkpoint_file(str(tmp_path / 'a.pth'))['state_dict']
    assert set(state) == {'fc.weight', 'fc.bias', 'count'}
    assert not list(tmp_path.glob('*.tmp'))


def test_old_checkpoints_with_non_persistent_buffers_still_load_strictly():
    source = WithBuffers()
    state = dict(source.state_dict(), class_input_ids=torch.zeros(2, 3, dtype=torch.long))
    target = WithBuffers()
    report = load_state_dict_checked(target, state, strict=True)
    assert report == dict(missing=[], unexpected=[], mismatched=[])
    assert torch.equal(target.fc.weight, source.fc.weight)
    assert torch.equal(target.class_input_ids, torch.arange(6).view(2, 3))  # the model's own, not the file's


def test_strict_load_lists_missing_unexpected_and_mismatched_keys(tmp_path):
    state = WithBuffers(classes=5).state_dict()
    state['extra.weight'] = torch.zeros(1)
    del state['count']
    torch.save(dict(state_dict=state), tmp_path / 'other.pth')
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(WithBuffers(classes=3), str(tmp_path / 'other.pth'), strict=True)
    message = str(err.value)
    assert str(tmp_path / 'other.pth') in message
    assert 'missing keys' in message and 'count' in message
    assert 'unexpected keys' in message and 'extra.weight' in message
    assert 'fc.weight (5, 4) in the checkpoint vs (3, 4) in the model' in message
    assert '--non-strict' in message


def test_non_strict_load_keeps_the_misfits_and_warns(tmp_path, caplog):
    source = WithBuffers(classes=5)
    state = source.state_dict()
    torch.save(dict(state_dict=state), tmp_path / 'other.pth')
    target = WithBuffers(classes=3)
    before = target.fc.weight.detach().clone()
    with caplog.at_level(logging.WARNING, logger='pyskl'):
        load_checkpoint(target, str(tmp_path / 'other.pth'), strict=False)
    assert torch.equal(target.fc.weight, before)
    assert 'shape mismatches' in caplog.text and 'fc.weight' in caplog.text


def make_runner(tmp_path, meta=None):
    model = WithBuffers()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    runner = EpochRunner(model, optimizer=optimizer, work_dir=str(tmp_path), logger=logging.getLogger('pyskl'),
                         meta=dict(meta or {}), max_epochs=3)
    return runner


def test_resume_restores_weights_optimizer_counters_best_score_and_generators(tmp_path):
    runner = make_runner(tmp_path, meta=dict(run_id='r1'))
    loss = runner.model.fc(torch.ones(2, 4)).sum()
    loss.backward()
    runner.optimizer.step()
    runner.meta['hook_msgs'] = dict(best_score=0.5, best_ckpt=str(tmp_path / 'best_top1_acc_epoch_1.pth'))
    RngStateHook().after_train_epoch(runner)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    RngStateHook().after_train_epoch(runner)  # the states the next epoch starts from
    runner.save_checkpoint(str(tmp_path))
    after_save = (random.random(), np.random.rand(), torch.rand(1))

    resumed = make_runner(tmp_path, meta=dict(run_id='r1'))
    resumed.resume(str(tmp_path / 'latest.pth'))
    assert (resumed.epoch, resumed.iter) == (1, 0)
    assert torch.equal(resumed.model.fc.weight, runner.model.fc.weight)
    assert resumed.optimizer.state_dict()['state'][0]['momentum_buffer'].equal(
        runner.optimizer.state_dict()['state'][0]['momentum_buffer'])
    assert resumed.meta['hook_msgs']['best_score'] == 0.5
    assert resumed.meta['run_id'] == 'r1'
    drawn = (random.random(), np.random.rand(), torch.rand(1))
    assert drawn[0] == after_save[0] and drawn[1] == after_save[1] and torch.equal(drawn[2], after_save[2])
    assert drawn[0] != expected[0]
    meta = load_checkpoint_file(str(tmp_path / 'epoch_1.pth'))['meta']
    assert meta['run_id'] == 'r1' and meta['sampler'] == dict(epoch=1, position=0) and len(meta['rng_states']) == 1


def test_best_checkpoints_carry_no_stale_generator_states(tmp_path):
    runner = make_runner(tmp_path)
    RngStateHook().after_train_epoch(runner)
    runner._epoch = 1  # the next epoch's evaluation saves a best checkpoint before the states are gathered
    runner.save_checkpoint(str(tmp_path), filename_tmpl='best_top1_acc_epoch_2.pth', create_symlink=False)
    assert 'rng_states' not in load_checkpoint_file(str(tmp_path / 'best_top1_acc_epoch_2.pth'))['meta']
    assert not (tmp_path / 'latest.pth').exists()


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    other = make_runner(tmp_path)
    other.model.fc = torch.nn.Linear(4, 7)
    other.save_checkpoint(str(tmp_path))
    with pytest.raises(CheckpointError, match='fc.weight'):
        make_runner(tmp_path).resume(str(tmp_path / 'latest.pth'))


def test_resume_refuses_weights_without_training_metadata(tmp_path):
    torch.save(WithBuffers().state_dict(), tmp_path / 'weights.pth')
    with pytest.raises(CheckpointError, match='load_from'):
        make_runner(tmp_path).resume(str(tmp_path / 'weights.pth'))


def test_text_branch_buffers_stay_out_of_checkpoints_and_old_files_load(tmp_path):
    from pyskl.models.recognizers import ClassTextBranch
    tiny_bert = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                                   intermediate_size=32))
    branch = ClassTextBranch(['drink water', 'jump up'], embed_dim=8, text_encoder=tiny_bert,
                             text_encoder_init=None)
    save_checkpoint_atomic(branch, str(tmp_path / 'new.pth'))
    state = load_checkpoint_file(str(tmp_path / 'new.pth'))['state_dict']
    assert not {'class_input_ids', 'class_attention_mask'} & set(state)
    old = dict(state, class_input_ids=branch.class_input_ids, class_attention_mask=branch.class_attention_mask)
    torch.save(dict(state_dict=old), tmp_path / 'old.pth')
    load_checkpoint(branch, str(tmp_path / 'old.pth'), strict=True)
