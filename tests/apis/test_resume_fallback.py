"""Which checkpoint auto-resume continues from, and the checks train_model makes before it starts."""
import logging

import pytest
import torch
from mmcv import Config

from pyskl.apis.train import find_resume_checkpoint, remove_orphan_best, warn_if_never_validated
from pyskl.utils.checkpoint import CheckpointError, save_checkpoint_atomic


def write_epoch(work_dir, epoch):
    model = torch.nn.Linear(2, 2)
    torch.nn.init.constant_(model.weight, float(epoch))
    save_checkpoint_atomic(model, str(work_dir / f'epoch_{epoch}.pth'), meta=dict(epoch=epoch, iter=epoch * 3))


def link_latest(work_dir, epoch):
    (work_dir / 'latest.pth').symlink_to(f'epoch_{epoch}.pth')


def test_latest_is_used_when_readable(tmp_path):
    for epoch in (1, 2, 3):
        write_epoch(tmp_path, epoch)
    link_latest(tmp_path, 2)
    checkpoint, path = find_resume_checkpoint(str(tmp_path))
    assert path.endswith('latest.pth') and checkpoint['meta']['epoch'] == 2


def test_truncated_latest_falls_back_to_newest_readable_epoch(tmp_path, caplog):
    for epoch in (1, 2, 3):
        write_epoch(tmp_path, epoch)
    link_latest(tmp_path, 3)
    data = (tmp_path / 'epoch_3.pth').read_bytes()
    (tmp_path / 'epoch_3.pth').write_bytes(data[:len(data) // 2])
    with caplog.at_level(logging.WARNING, logger='pyskl'):
        checkpoint, path = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'epoch_2.pth') and checkpoint['meta']['epoch'] == 2
    assert torch.equal(checkpoint['state_dict']['weight'], torch.full((2, 2), 2.0))
    text = caplog.text
    assert str(tmp_path / 'latest.pth') in text and 'damaged or truncated' in text
    assert 'resuming from' in text and 'epoch_2.pth instead' in text


def test_dangling_latest_is_reported_and_falls_back(tmp_path, caplog):
    write_epoch(tmp_path, 1)
    link_latest(tmp_path, 2)  # epoch_2.pth was never written
    with caplog.at_level(logging.WARNING, logger='pyskl'):
        checkpoint, path = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'epoch_1.pth')
    assert 'is a link to epoch_2.pth, which does not exist' in caplog.text


def test_dangling_latest_without_any_readable_checkpoint_stops(tmp_path):
    link_latest(tmp_path, 1)
    with pytest.raises(CheckpointError, match='none can be read') as err:
        find_resume_checkpoint(str(tmp_path))
    assert 'latest.pth' in str(err.value) and '--resume-from' in str(err.value)


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) is None


def test_orphan_best_files_after_the_resumed_epoch_are_removed(tmp_path):
    for name in ('best_top1_acc_epoch_1.pth', 'best_top1_acc_epoch_3.pth', 'epoch_3.pth'):
        (tmp_path / name).write_bytes(b'x')
    remove_orphan_best(str(tmp_path), 2, logging.getLogger('pyskl'))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['best_top1_acc_epoch_1.pth', 'epoch_3.pth']


@pytest.mark.parametrize('evaluation,epochs,warns', [
    (dict(interval=5), 2, True), (dict(interval=2), 2, False), (dict(interval=1, start=3), 2, True),
    (dict(interval=1), 1, False)])
def test_validate_that_never_evaluates_warns(caplog, evaluation, epochs, warns):
    with caplog.at_level(logging.WARNING, logger='pyskl'):
        warn_if_never_validated(Config(dict(evaluation=evaluation)), epochs, logging.getLogger('pyskl'))
    assert ('never evaluates' in caplog.text) == warns
