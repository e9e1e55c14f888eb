"""The inference and analysis tools refuse a bad file or config with one `error:` line (no traceback), run nothing
from a crafted checkpoint, and name the config section of a misspelt model argument."""
import os
import re
import subprocess

import pytest
import torch
from e2e_utils import REPO_ROOT, python_tool, tool_env

from pyskl.apis import init_recognizer
from pyskl.apis.inference import CheckpointMismatchError
from pyskl.utils.config_check import ConfigError

CONFIG = str(REPO_ROOT / 'configs' / 'demo' / 'posec3d_synthetic.py')


class RunsCode:
    def __reduce__(self):
        return (os.system, ('echo ran > ran.txt',))


def test_init_recognizer_names_the_section_of_a_misspelt_model_argument(tmp_path):
    path = tmp_path / 'typo.py'
    path.write_text(f'_base_ = [{CONFIG!r}]\nmodel = dict(backbone=dict(base_channel=8))\n')
    with pytest.raises(ConfigError, match=r"typo\.py, model: .*'base_channel'"):
        init_recognizer(str(path))


def test_init_recognizer_raises_a_mismatch_error_for_another_models_checkpoint(tmp_path):
    torch.save(dict(state_dict={'cls_head.fc.weight': torch.zeros(18, 256)}), tmp_path / 'other.pth')
    with pytest.raises(CheckpointMismatchError, match=r'other\.pth does not fit'):
        init_recognizer(CONFIG, str(tmp_path / 'other.pth'))


@pytest.mark.slow
@pytest.mark.parametrize('tool, args, expected', [
    ('analysis/publish_model.py', ['{evil}', '{tmp}/pub.pth'], r'error: checkpoint .*evil\.pth holds objects'),
    ('analysis/get_flops.py', ['{typo}'], r"error: config .*typo\.py, model: .*'base_channel'"),
    ('analysis/print_config.py', [CONFIG, '--cfg-options', 'total_epoch=3'], r"error: .*'total_epochs'"),
    ('infer.py', [CONFIG, '{evil}', '{tmp}/none.pkl'], r'error: .*none\.pkl'),
])
def test_the_command_line_prints_one_error_line(tmp_path, tool, args, expected):
    torch.save(dict(state_dict={}, meta=dict(x=RunsCode())), tmp_path / 'evil.pth')
    (tmp_path / 'typo.py').write_text(f'_base_ = [{CONFIG!r}]\nmodel = dict(backbone=dict(base_channel=8))\n')
    names = dict(evil=str(tmp_path / 'evil.pth'), typo=str(tmp_path / 'typo.py'), tmp=str(tmp_path))
    proc = subprocess.run(python_tool(tool) + [a.format(**names) for a in args], cwd=str(tmp_path), env=tool_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr and re.search(expected, proc.stderr), proc.stderr[-3000:]
    assert not (tmp_path / 'ran.txt').exists() and not (tmp_path / 'pub.pth').exists()
