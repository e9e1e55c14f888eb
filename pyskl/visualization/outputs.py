"""Output files of the analysis tools: nothing existing is replaced unless asked, every file is written whole."""
import csv
import io
import json
import os
import os.path as osp
from typing import Any, Iterable, Sequence

from ..datasets.base import _to_jsonable
from ..utils.io import atomic_write_bytes


def check_new_files(paths: Iterable[str], overwrite: bool = False) -> None:
    """Refuse to run when an output file already exists (unless ``overwrite``), before any work is done."""
    if overwrite:
        return
    existing = [p for p in paths if osp.exists(p)]
    if existing:
        raise FileExistsError(f'output {existing[0]} already exists; choose another output path (--out / '
                              '--out-dir) or pass --overwrite to replace it')


def _make_parent(path: str) -> None:
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)


def write_bytes(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (a temporary file renamed into place)."""
    _make_parent(path)
    atomic_write_bytes(path, payload)


def write_json(path: str, obj: Any) -> None:
    """``obj`` (numpy values allowed) as indented JSON."""
    write_bytes(path, (json.dumps(_to_jsonable(obj), indent=2) + '\n').encode('utf-8'))


def write_csv(path: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV file with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(list(header))
    for row in rows:
        writer.writerow(list(row))
    write_bytes(path, buffer.getvalue().encode('utf-8'))


def save_figure(fig: Any, path: str, dpi: int = 120) -> None:
    """Render a matplotlib figure to a PNG file (atomically) and close it."""
    from .plotting import pyplot
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=dpi, bbox_inches='tight')
    pyplot().close(fig)
    write_bytes(path, buffer.getvalue())
