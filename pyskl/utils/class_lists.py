"""Class sentences: one natural-language name per action class, read from a small CSV file.

A class list file looks like::

    id,name
    0,drink water
    1,eat meal or snack

Row ``i`` (after the header) must carry id ``i``: the id is the label index the dataset uses.
See ``lists/README.md`` for the shipped lists and how to add one.
"""
import csv
import io
import os
from pathlib import Path
from typing import List, Sequence, Union

HEADER = ('id', 'name')
# pyskl/utils/class_lists.py -> the repository root is two directories above the package files
REPO_ROOT = Path(__file__).resolve().parents[2]

ClassListSource = Union[str, os.PathLike, Sequence[str]]


def resolve_class_list_path(path: Union[str, os.PathLike]) -> Path:
    """Find a class list file.

    An absolute path is used as it is. A relative path is tried against the current directory
    first and then against the repository root, so that configs can say ``lists/ntu60.csv``
    whatever directory a tool is started from.

    Raises:
        FileNotFoundError: naming the path and every place that was tried.
    """
    path = Path(path)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, REPO_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ', '.join(str(c) for c in candidates)
    raise FileNotFoundError(f'class list {path}: no such file (tried {tried})')


def _check_names(names: Sequence[str], source: str) -> List[str]:
    """Check a plain sequence of class names: non-empty strings, no duplicates (ignoring case)."""
    result = []
    seen = {}
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f'class list {source}: entry {index} is {type(name).__name__}, expected str')
        if not name.strip():
            raise ValueError(f'class list {source}: entry {index} is an empty name')
        key = name.strip().lower()
        if key in seen:
            raise ValueError(f'class list {source}: entry {index} {name!r} repeats entry {seen[key]}')
        seen[key] = index
        result.append(name)
    if not result:
        raise ValueError(f'class list {source}: no class names')
    return result


def _read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a leading byte-order mark is dropped); an undecodable byte names its offset."""
    data = path.read_bytes()
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        raise ValueError(f'{path}:{line}: not UTF-8 text: byte offset {e.start} (0x{data[e.start]:02x}) {e.reason}; '
                         'save the class list as UTF-8') from None


def _read_csv(path: Path) -> List[str]:
    """Read and validate one class list CSV file; errors name the file and the line."""
    names = []
    first_line = {}
    with io.StringIO(_read_text(path), newline='') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ValueError(f'{path}: empty file, expected the header line "id,name"')
        if tuple(cell.strip().lower() for cell in header) != HEADER:
            raise ValueError(f'{path}:{reader.line_num}: header is {",".join(header)!r}, expected "id,name"')
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines (a trailing newline, spacing) carry no class
            if len(row) != 2:
                raise ValueError(f'{path}:{line}: expected 2 fields (id,name) but got {len(row)}: {row!r}; '
                                 'quote names that contain commas')
            raw_id, name = row[0].strip(), row[1].strip()
            expected = len(names)
            try:
                class_id = int(raw_id)
            except ValueError:
                raise ValueError(f'{path}:{line}: id {raw_id!r} is not an integer') from None
            if class_id != expected:
                raise ValueError(f'{path}:{line}: id {class_id} but expected {expected}; '
                                 'ids must run 0, 1, 2, ... in label order with none skipped')
            if not name:
                raise ValueError(f'{path}:{line}: class {class_id} has an empty name')
            key = name.lower()
            if key in first_line:
                raise ValueError(f'{path}:{line}: name {name!r} repeats the name on line {first_line[key]}')
            first_line[key] = line
            names.append(name)
    if not names:
        raise ValueError(f'{path}: no classes after the header')
    return names


def load_class_list(path: ClassListSource) -> List[str]:
    """Load the class sentences of a dataset, in label order.

    Args:
        path: a CSV file with header ``id,name`` (absolute, or relative to the current directory
            or to the repository root), or the names themselves as a list or tuple of strings.

    Returns:
        list[str]: ``names[i]`` is the sentence of label ``i``.

    Raises:
        FileNotFoundError: the file is found neither in the current directory nor in the
            repository root.
        ValueError: the file is malformed (header, ids, empty or repeated names); the message
            names the file and the line.
    """
    if isinstance(path, (list, tuple)):
        return _check_names(path, source='<list>')
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f'class list must be a path or a list of names, got {type(path).__name__}')
    return _read_csv(resolve_class_list_path(path))


def check_class_list(names: Sequence[str], num_classes: int, source: str) -> None:
    """Make sure a class list has exactly one sentence per class.

    Args:
        names: the class sentences.
        num_classes: the number of classes the model or dataset expects.
        source: where the names came from (a file name or config key), for the message.

    Raises:
        ValueError: when ``len(names) != num_classes``.
    """
    if len(names) != num_classes:
        raise ValueError(f'class list {source} has {len(names)} names but num_classes is {num_classes}; '
                         'use the list that matches the dataset or fix num_classes in the config')
