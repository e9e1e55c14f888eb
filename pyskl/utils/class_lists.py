"""Class sentences: one natural-language name per action class, read from a small CSV file.

A class list file looks like::

    id,name
    0,drink water
    1,eat meal or snack

Row ``i`` (after the header) must carry id ``i``: the id is the label index the dataset uses.
See ``lists/README.md`` for the shipped lists and how to add one.

The original SkeletonCLIP++ configs name their own lists (``lists/ntu_60_labels.csv``, ``lists/hmdb51_labels.csv``,
``lists/ucf_labels.csv``), whose wording differs from ours. :data:`SEED_CLASS_LISTS` knows these names: a file of
that name found in the usual places is used as it is (a checkpoint's text features depend on the exact wording),
and a missing one stops with an error that says where to put it and which of our lists to use for new training.
"""
import csv
import io
import os
import warnings
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence, Union

HEADER = ('id', 'name')
# pyskl/utils/class_lists.py -> the repository root is two directories above the package files
REPO_ROOT = Path(__file__).resolve().parents[2]

ClassListSource = Union[str, os.PathLike, Sequence[str]]


class SeedClassList(NamedTuple):
    """A class list name of the original SkeletonCLIP++ code and what it corresponds to here."""
    dataset: str
    num_classes: int
    ours: str
    note: str


# file name used by the original code's configs -> facts about it
SEED_CLASS_LISTS: Dict[str, SeedClassList] = {
    'ntu_60_labels.csv': SeedClassList(
        'NTU RGB+D 60', 60, 'lists/ntu60.csv', 'its wording differs from ours in 33 of the 60 sentences'),
    'hmdb51_labels.csv': SeedClassList(
        'HMDB51', 51, 'lists/hmdb51.csv', 'its rows 20 and 21 ("kick ball" / "kick") are swapped against pyskl\'s '
        'HMDB51 labels (20 = kick, 21 = kick_ball)'),
    'ucf_labels.csv': SeedClassList(
        'UCF101', 101, 'lists/ucf101.csv', 'its sentences are its own wording, which need not match ours'),
}
# lists whose row order disagrees with pyskl's labels: using them warns (they stay usable for old checkpoints)
SEED_MISORDERED = ('hmdb51_labels.csv', )


class SeedClassListWarning(UserWarning):
    """A class list of the original code whose rows disagree with pyskl's label order is in use."""


def seed_class_list_info(path: Union[str, os.PathLike]) -> Union[SeedClassList, None]:
    """The facts about ``path`` when its file name is one of the original code's class lists, else None."""
    return SEED_CLASS_LISTS.get(Path(path).name)


def _seed_missing_message(path: Path, tried: str, info: SeedClassList) -> str:
    return (f'class list {path}: no such file (tried {tried}). {path.name} is the {info.dataset} class list of the '
            f'original SkeletonCLIP++ code; {info.note}. Its sentences are not shipped here, and the text features '
            'of a model depend on the exact wording, so none is substituted. To evaluate or fine-tune a checkpoint '
            f'of that code, copy its lists/{path.name} into lists/ of this repository (or of the current '
            f'directory). For new training use our checked list: text_lists={info.ours!r}.')


def _warn_if_misordered(path: Path) -> None:
    if path.name not in SEED_MISORDERED:
        return
    info = SEED_CLASS_LISTS[path.name]
    warnings.warn(f'class list {path} is the original code\'s {info.dataset} list: {info.note}, so clips of one '
                  'class are trained and scored as the other. Keep it only to evaluate checkpoints trained with '
                  f'it; for new training use text_lists={info.ours!r}.', SeedClassListWarning, stacklevel=3)


def resolve_class_list_path(path: Union[str, os.PathLike]) -> Path:
    """Find a class list file.

    An absolute path is used as it is. A relative path is tried against the current directory
    first and then against the repository root, so that configs can say ``lists/ntu60.csv``
    whatever directory a tool is started from.

    Raises:
        FileNotFoundError: naming the path and every place that was tried; for a list name of the original
            code, also what to copy where, and which of our lists to use for new training.
    """
    path = Path(path)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, REPO_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ', '.join(str(c) for c in candidates)
    info = seed_class_list_info(path)
    if info is not None:
        raise FileNotFoundError(_seed_missing_message(path, tried, info))
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

    Warns:
        SeedClassListWarning: the file is the original code's ``hmdb51_labels.csv`` (rows 20/21 swapped against
            pyskl's labels).
    """
    if isinstance(path, (list, tuple)):
        return _check_names(path, source='<list>')
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f'class list must be a path or a list of names, got {type(path).__name__}')
    resolved = resolve_class_list_path(path)
    names = _read_csv(resolved)
    _warn_if_misordered(resolved)
    return names


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
