"""tools/convert_seed_checkpoint.py and tools/sweep.py stop bad inputs with one error line naming the file."""
import os

import pytest
import torch
from analysis_helpers import load_tool
from e2e_utils import REPO_ROOT


class RunsCode:
    def __reduce__(self):
        return (os.system, ('echo ran > ran.txt',))


def test_convert_refuses_a_checkpoint_with_pickled_code_and_writes_nothing(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'w': torch.zeros(1)}, meta=dict(x=RunsCode())), path)
    tool = load_tool('convert_seed_checkpoint.py')
    with pytest.raises(SystemExit, match=r'error: checkpoint .*evil\.pth holds objects .*posix\.system'):
        tool.main([str(path), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists() and not (tmp_path / 'ran.txt').exists()


def test_convert_names_a_truncated_checkpoint(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict={'w': torch.zeros(100)}), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(SystemExit, match=r'error: checkpoint .*cut\.pth cannot be read'):
        load_tool('convert_seed_checkpoint.py').main([str(path), str(tmp_path / 'out.pth')])


@pytest.mark.parametrize('text, message', [
    ('total_epoch = 1\n', r"top-level key 'total_epoch'.*'total_epochs'"),
    ('total_epochs = (1\n', r'line 3: syntax error'),
])
def test_sweep_checks_the_config_before_the_grid(tmp_path, text, message):
    from pyskl.utils.sweep import SweepError
    base = str(REPO_ROOT / 'configs' / 'demo' / 'posec3d_synthetic.py')
    path = tmp_path / 'bad.py'
    path.write_text(f'_base_ = [{base!r}]\n\n' + text)
    with pytest.raises(SweepError, match=message):
        load_tool('sweep.py').load_config(str(path))
