"""Final steps: `FormatShape` (network layout), `Collect` (keep keys) and `ToTensor`."""
from collections.abc import Sequence as SequenceABC
from typing import Sequence

import numpy as np
import torch
from mmcv.parallel import DataContainer

from ..registry import PIPELINES


def to_tensor(data, name: str = 'data') -> torch.Tensor:
    """Convert a numpy array, a torch tensor, a sequence of numbers, an int or a float to a tensor.

    An int becomes a 0-dim LongTensor and a float a 0-dim FloatTensor, so that a batch of labels collates to
    ``[B]``.
    """
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(data))
    if isinstance(data, (bool, np.bool_)):
        return torch.tensor(bool(data))
    if isinstance(data, (int, np.integer)):
        return torch.tensor(int(data), dtype=torch.long)
    if isinstance(data, (float, np.floating)):
        return torch.tensor(float(data), dtype=torch.float32)
    if isinstance(data, SequenceABC) and not isinstance(data, str):
        return torch.tensor(data)
    raise TypeError(f'ToTensor: "{name}" is a {type(data).__name__}, which cannot be converted to a tensor; '
                    f'use an array, a number or a sequence of numbers')


@PIPELINES.register_module()
class FormatShape:
    """Reshape ``imgs`` to the layout the network expects.

    - ``'NCTHW_Heatmap'``: heatmaps ``[N * num_clips * clip_len, C, H, W]`` (``N`` = 2 with ``double``) become
      ``[N * num_clips, C, clip_len, H, W]``.
    - ``'NCTHW'``: frames ``[N * num_clips * clip_len, H, W, C]`` become ``[N * num_clips, C, clip_len, H, W]``.
    - ``'NCHW'``: frames ``[N, H, W, C]`` become ``[N, C, H, W]``.

    With ``collapse`` the leading axis (which must be 1) is dropped. Sets ``imgs`` and ``input_shape``.

    Args:
        input_format (str): one of the layouts above.
        collapse (bool): drop the leading axis of size 1.
    """

    formats = ('NCTHW_Heatmap', 'NCTHW', 'NCHW')

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in self.formats:
            raise ValueError(f'FormatShape: unknown input_format {input_format!r}; use one of {self.formats}')
        self.input_format = input_format
        self.collapse = collapse

    def __call__(self, results: dict) -> dict:
        if 'imgs' not in results:
            raise KeyError('FormatShape: no "imgs" in the results; put GeneratePoseTarget (or a frame decoder) '
                           'before FormatShape')
        imgs = results['imgs']
        if not isinstance(imgs, np.ndarray):
            imgs = np.stack(imgs)
        if self.input_format in ('NCTHW_Heatmap', 'NCTHW'):
            missing = [key for key in ('num_clips', 'clip_len') if key not in results]
            if missing:
                raise KeyError(f'FormatShape: {missing} not in the results; put a sampling step '
                               f'(UniformSampleFrames) in the pipeline')
            num_clips, clip_len = results['num_clips'], results['clip_len']
            if imgs.shape[0] % (num_clips * clip_len):
                raise ValueError(f'FormatShape: imgs has {imgs.shape[0]} frames, not a multiple of num_clips x '
                                 f'clip_len = {num_clips} x {clip_len}')
            imgs = imgs.reshape((-1, num_clips, clip_len) + imgs.shape[1:])
            if self.input_format == 'NCTHW_Heatmap':
                # [N, clips, T, C, H, W] -> [N, clips, C, T, H, W]
                imgs = imgs.transpose(0, 1, 3, 2, 4, 5)
            else:
                # [N, clips, T, H, W, C] -> [N, clips, C, T, H, W]
                imgs = imgs.transpose(0, 1, 5, 2, 3, 4)
            imgs = imgs.reshape((-1, ) + imgs.shape[2:])
        else:
            imgs = imgs.transpose(0, 3, 1, 2)
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(f'FormatShape: collapse=True needs a leading axis of 1, got shape {imgs.shape}')
            imgs = imgs[0]
        results['imgs'] = np.ascontiguousarray(imgs)
        results['input_shape'] = results['imgs'].shape
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_format={self.input_format!r}, collapse={self.collapse})'


def key_list(keys: Sequence[str], step: str, name: str) -> list:
    """``keys`` as a list of names; a bare string (``keys='imgs'``, which would be read letter by letter) is refused."""
    if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f'{step}: {name} must be a list of key names, e.g. [{keys!r}] or [\'imgs\', \'label\'], '
                        f'got {keys!r}')
    return list(keys)


@PIPELINES.register_module()
class Collect:
    """Keep only ``keys`` of the results, plus an optional meta dict.

    With a non-empty ``meta_keys`` their values go into ``results[meta_name]`` as a CPU-only mmcv
    ``DataContainer`` (not stacked by collate); with ``meta_keys=[]`` (what pose configs use) there is no meta
    entry. With ``nested`` every kept value is wrapped in a one-element list.

    Args:
        keys (Sequence[str]): keys to keep, e.g. ``['imgs', 'label']``.
        meta_keys (Sequence[str]): keys gathered into the meta dict.
        meta_name (str): name of the meta entry.
        nested (bool): wrap every value in a list.
    """

    def __init__(self,
                 keys: Sequence[str],
                 meta_keys: Sequence[str] = ('filename', 'label', 'original_shape', 'img_shape', 'pad_shape',
                                             'flip_direction', 'img_norm_cfg'),
                 meta_name: str = 'img_metas',
                 nested: bool = False) -> None:
        self.keys = key_list(keys, 'Collect', 'keys')
        self.meta_keys = key_list(meta_keys, 'Collect', 'meta_keys')
        self.meta_name = meta_name
        self.nested = nested

    def __call__(self, results: dict) -> dict:
        missing = [key for key in self.keys + self.meta_keys if key not in results]
        if missing:
            raise KeyError(f'Collect: sample {results.get("frame_dir", "?")!r} lacks {missing}; it has '
                           f'{sorted(results)}; fix Collect(keys=..., meta_keys=...) or the steps before it')
        data = {key: results[key] for key in self.keys}
        if self.meta_keys:
            data[self.meta_name] = DataContainer({key: results[key] for key in self.meta_keys}, cpu_only=True)
        if self.nested:
            data = {key: [value] for key, value in data.items()}
        return data

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, meta_keys={self.meta_keys}, '
                f'meta_name={self.meta_name!r}, nested={self.nested})')


@PIPELINES.register_module()
class ToTensor:
    """Convert ``results[key]`` for every key to a torch tensor (see `to_tensor`).

    Args:
        keys (Sequence[str]): the keys to convert.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = key_list(keys, 'ToTensor', 'keys')

    def __call__(self, results: dict) -> dict:
        for key in self.keys:
            if key not in results:
                raise KeyError(f'ToTensor: no "{key}" in the results (keys: {sorted(results)}); '
                               f'fix ToTensor(keys=...) or Collect(keys=...)')
            results[key] = to_tensor(results[key], key)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'
