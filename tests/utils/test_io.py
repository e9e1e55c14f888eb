"""Atomic writes: the target holds the old content or the complete new one; a failure leaves no trace."""
import os

import pytest

from pyskl.utils.io import atomic_open, atomic_write_bytes, atomic_write_text, stale_temporary_files


def test_write_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / 'sub' / 'out.json'
    atomic_write_text(target, 'first')
    atomic_write_text(target, 'second')
    assert target.read_text() == 'second'
    assert sorted(p.name for p in target.parent.iterdir()) == ['out.json']
    reference = tmp_path / 'reference'
    reference.write_bytes(b'')
    atomic_write_bytes(tmp_path / 'b.bin', b'\x00\x01')
    assert (tmp_path / 'b.bin').read_bytes() == b'\x00\x01'
    assert (tmp_path / 'b.bin').stat().st_mode == reference.stat().st_mode  # the permissions of a new file


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with atomic_open(target, 'wb') as f:
            f.write(b'half')
            raise RuntimeError('killed')
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_a_killed_writer_leaves_only_a_hidden_temporary_name(tmp_path):
    target = tmp_path / 'epoch_3.pth'
    context = atomic_open(target, 'wb')
    f = context.__enter__()
    f.write(b'half')
    f.flush()  # the process dies here: the context never exits
    assert not target.exists()
    assert [os.path.basename(p) for p in stale_temporary_files(str(tmp_path), '*.pth')] == [os.path.basename(f.name)]
    f.close()
    with pytest.raises(ValueError, match='mode'):
        with atomic_open(target, 'ab'):
            pass
