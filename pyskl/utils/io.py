"""Atomic file writes: readers see the old file or the complete new one, never half of it.

Every file the package writes that another process (or a rerun after ``kill -9``) may read goes through
:func:`atomic_open`: the data goes to a unique temporary file in the same folder, is flushed and synced to disk,
and is then renamed onto the target, which is atomic on POSIX file systems. A failure removes the temporary file.
"""
import os
import os.path as osp
import secrets
from contextlib import contextmanager
from typing import IO, Iterator, Optional, Union

__all__ = ['atomic_open', 'atomic_write_bytes', 'atomic_write_text', 'stale_temporary_files']


@contextmanager
def atomic_open(path: Union[str, os.PathLike], mode: str = 'wb', encoding: Optional[str] = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on a clean exit it replaces ``path``.

    Args:
        path (str | PathLike): the file to write (its folder is created).
        mode (str): 'wb' or 'w'.
        encoding (str, optional): the text encoding for mode 'w' (default utf-8).
    """
    if mode not in ('wb', 'w'):
        raise ValueError(f'atomic_open({path!r}): mode must be "wb" or "w", got {mode!r}')
    path = osp.abspath(os.fspath(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    # a unique name in the same folder (the rename stays on one file system), created with the permissions of a new
    # file; a writer killed half-way leaves only this hidden name behind (see `stale_temporary_files`)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp')
    try:
        with open(tmp, 'x' + mode[1:], encoding=(encoding or 'utf-8') if mode == 'w' else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: Union[str, os.PathLike], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_write_text(path: Union[str, os.PathLike], text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, 'w', encoding=encoding) as f:
        f.write(text)


def stale_temporary_files(folder: str, pattern: str = '*') -> list:
    """The temporary files :func:`atomic_open` left in ``folder`` for targets matching ``pattern`` (killed writers)."""
    import glob
    return sorted(glob.glob(osp.join(glob.escape(folder), f'.{pattern}.*.tmp')))
