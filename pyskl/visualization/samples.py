"""Pose samples from an annotation pickle for the single-sample tools (inference, the viewer)."""
from typing import List, Optional, Sequence

from ..datasets.pickle_io import read_pickle as _read_pickle


def load_pose_samples(path: str) -> List[dict]:
    """The samples of ``path``: a pyskl annotation pickle (``dict(split, annotations)``), a list of sample dicts
    or one sample dict. It is read by the dataset's own pickle loader."""
    data = _read_pickle(path, what='annotation file')
    if isinstance(data, dict) and 'annotations' in data:
        data = data['annotations']
    elif isinstance(data, dict) and 'keypoint' in data:
        data = [data]
    if not isinstance(data, (list, tuple)) or not all(isinstance(s, dict) for s in data):
        raise ValueError(f'annotation file {path}: expected a pyskl annotation pickle (dict with "annotations"), a '
                         f'list of sample dicts or one sample dict, got {type(data).__name__}')
    if not data:
        raise ValueError(f'annotation file {path} holds no samples')
    return list(data)


def select_samples(path: str, frame_dirs: Optional[Sequence[str]] = None) -> List[dict]:
    """The samples of ``path`` named by ``frame_dirs`` (in that order), or all of them when None."""
    samples = load_pose_samples(path)
    if frame_dirs is None:
        return samples
    by_name = {}
    for sample in samples:
        by_name.setdefault(str(sample.get('frame_dir')), sample)
    missing = [name for name in frame_dirs if name not in by_name]
    if missing:
        known = ', '.join(list(by_name)[:5])
        raise ValueError(f'annotation file {path} has no sample with frame_dir {missing[0]!r} (it has {len(by_name)} '
                       f'samples, e.g. {known})')
    return [by_name[name] for name in frame_dirs]
