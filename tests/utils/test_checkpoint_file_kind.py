"""`load_checkpoint_file`: a file that is not a checkpoint at all is named as such (not as one with unsafe objects,
whose advice would be to unpickle it fully)."""
import pytest
import torch

from pyskl.utils.checkpoint import CheckpointError, load_checkpoint_file


@pytest.mark.parametrize('content, message', [
    (b'not a checkpoint\n', r'notes\.pth is not a PyTorch checkpoint'),
    (b'', r'notes\.pth is empty'),
])
def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path, content, message):
    path = tmp_path / 'notes.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint_file(str(path))
    assert 'unsafe' not in str(info.value)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_file(str(path), unsafe=True)


def test_a_folder_is_named(tmp_path):
    with pytest.raises(CheckpointError, match='is a folder'):
        load_checkpoint_file(str(tmp_path))


def test_zip_and_legacy_checkpoints_still_load(tmp_path):
    torch.save({'w': torch.ones(2)}, tmp_path / 'new.pth')
    torch.save({'w': torch.ones(2)}, tmp_path / 'old.pth', _use_new_zipfile_serialization=False)
    for name in ('new.pth', 'old.pth'):
        assert torch.equal(load_checkpoint_file(str(tmp_path / name))['w'], torch.ones(2))
