"""A work dir holds one configuration: `plan_run` resumes the same config and refuses any other."""
import json

import pytest
from mmcv import Config

from pyskl.apis.work_dir import (
    WorkDirConflict,
    diff_configs,
    effective_config,
    plan_run,
    read_run_record,
    work_dir_used,
    write_run_record,
)


def trained(work_dir, cfg, timestamp='20260101_000000', run_id='run-a'):
    """A work dir that holds a run's record and its first checkpoint."""
    write_run_record(str(work_dir), timestamp, run_id, cfg)
    (work_dir / 'epoch_1.pth').write_bytes(b'x')


def make_cfg(**changes):
    cfg = Config(dict(optimizer=dict(type='SGD', lr=0.1), total_epochs=2, seed=0, work_dir='w',
                      data=dict(train=dict(pipeline=[dict(type='A', scale=(1, 2)), dict(type='B')]))))
    cfg.merge_from_dict(changes)
    return effective_config(cfg, world_size=1, deterministic=True)


def test_diff_names_nested_and_list_entries():
    old, new = make_cfg(), make_cfg(**{'optimizer.lr': 0.01})
    assert diff_configs(old, new) == ['optimizer.lr']
    new = make_cfg()
    new['data']['train']['pipeline'][0]['scale'] = [1, 3]
    assert diff_configs(old, new) == ['data.train.pipeline[0].scale']
    assert diff_configs(old, make_cfg()) == []


def test_effective_config_ignores_where_to_write_and_records_world_size():
    a = make_cfg(work_dir='elsewhere', resume_from='x.pth')
    assert diff_configs(make_cfg(), a) == []
    cfg = Config(dict(total_epochs=2))
    assert diff_configs(effective_config(cfg, 1, False), effective_config(cfg, 2, False)) == ['world_size']
    assert diff_configs(effective_config(cfg, 1, False), effective_config(cfg, 1, True)) == ['deterministic']


def test_fresh_work_dir_is_a_new_run(tmp_path):
    plan = plan_run(str(tmp_path / 'w'), make_cfg(), '20260101_000000')
    assert plan == dict(work_dir=str(tmp_path / 'w'), run_id='20260101_000000', resume=False, note='')


def test_same_config_resumes_with_the_recorded_run_id(tmp_path):
    trained(tmp_path, make_cfg())
    plan = plan_run(str(tmp_path), make_cfg(), '20260102_000000')
    assert plan['resume'] and plan['run_id'] == 'run-a' and plan['work_dir'] == str(tmp_path)


def test_changed_config_is_refused_before_writing(tmp_path):
    trained(tmp_path, make_cfg())
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(WorkDirConflict) as err:
        plan_run(str(tmp_path), make_cfg(**{'optimizer.lr': 0.001}), '20260102_000000')
    message = str(err.value)
    assert 'optimizer.lr: 0.1 -> 0.001' in message
    assert '--work-dir' in message and '--resume-from' in message and '--force' in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_no_auto_resume_in_a_used_work_dir_is_refused(tmp_path):
    trained(tmp_path, make_cfg())
    with pytest.raises(WorkDirConflict, match='--no-auto-resume'):
        plan_run(str(tmp_path), make_cfg(), '20260102_000000', auto_resume=False)


def test_checkpoints_without_a_record_are_refused(tmp_path):
    (tmp_path / 'epoch_1.pth').write_bytes(b'x')
    assert work_dir_used(str(tmp_path))
    with pytest.raises(WorkDirConflict, match='no run record'):
        plan_run(str(tmp_path), make_cfg(), '20260102_000000')


@pytest.mark.parametrize('how', ['force', 'resume_from'])
def test_force_and_explicit_resume_write_to_a_fresh_sub_folder(tmp_path, how):
    trained(tmp_path, make_cfg())
    kwargs = dict(force=True) if how == 'force' else dict(resume_from=str(tmp_path / 'epoch_1.pth'))
    plan = plan_run(str(tmp_path), make_cfg(total_epochs=3), '20260102_000000', **kwargs)
    assert plan['work_dir'] == str(tmp_path / 'run_20260102_000000')
    assert plan['run_id'] == '20260102_000000' and not plan['resume']
    assert not work_dir_used(plan['work_dir'])


def test_newest_record_wins(tmp_path):
    write_run_record(str(tmp_path), '20260101_000000', 'run-a', make_cfg())
    write_run_record(str(tmp_path), '20260102_000000', 'run-a', make_cfg(), note='second attempt')
    record = read_run_record(str(tmp_path))
    assert record['timestamp'] == '20260102_000000' and record['note'] == 'second attempt'
    assert json.loads((tmp_path / '20260101_000000.run.json').read_text())['run_id'] == 'run-a'


def test_a_run_that_stopped_before_its_first_checkpoint_does_not_claim_the_work_dir(tmp_path):
    """A typo that stops a run at start-up leaves a record and a log; the corrected command trains there."""
    write_run_record(str(tmp_path), '20260101_000000', 'run-a', make_cfg(total_epochs=3))
    assert not work_dir_used(str(tmp_path))
    plan = plan_run(str(tmp_path), make_cfg(), '20260102_000000')
    assert plan == dict(work_dir=str(tmp_path), run_id='20260102_000000', resume=False, note='')
    (tmp_path / 'best_top1_acc_epoch_1.pth').write_bytes(b'x')  # a killed attempt that evaluated once
    assert work_dir_used(str(tmp_path))
    with pytest.raises(WorkDirConflict, match='total_epochs'):
        plan_run(str(tmp_path), make_cfg(), '20260103_000000')
