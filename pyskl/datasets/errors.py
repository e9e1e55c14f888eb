"""Errors raised when an annotation file or one of its samples does not have the expected form."""
from typing import Optional


class AnnotationError(ValueError):
    """An annotation file, or a sample in it, is malformed.

    The message always starts with the file; for a sample it also names the sample (index and ``frame_dir``) and the
    field, e.g. ``ann_file data/x.pkl: sample 3 ('S001C001P001R001A001'), field 'keypoint': ...``.
    """


def sample_error(ann_file: str, index: int, frame_dir: Optional[str], field: str, problem: str) -> AnnotationError:
    """Build an `AnnotationError` naming the file, the sample and the field that is wrong.

    Args:
        ann_file (str): the annotation file.
        index (int): position of the sample among the file's annotations.
        frame_dir (str, optional): the sample's identifier, when it has one.
        field (str): the offending field.
        problem (str): what is wrong and, where it helps, what was expected.
    """
    name = f' ({frame_dir!r})' if frame_dir is not None else ''
    return AnnotationError(f'ann_file {ann_file}: sample {index}{name}, field {field!r}: {problem}')
