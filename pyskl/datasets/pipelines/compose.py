"""`Compose`: chain pipeline steps built from config dicts."""
from collections.abc import Sequence
from typing import Callable, Optional, Union

from ...utils.registry import build_with_known_types
from ..registry import PIPELINES


@PIPELINES.register_module()
class Compose:
    """Run a sequence of pipeline steps one after the other.

    Every step takes the ``results`` dict and returns it (updated) or ``None``; a ``None`` ends the chain and the
    whole pipeline returns ``None``.

    Args:
        transforms (Sequence[dict | callable]): the steps, either config dicts with a ``type`` registered in
            ``PIPELINES`` or callables.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]]) -> None:
        if isinstance(transforms, (str, dict)) or not isinstance(transforms, Sequence):
            raise TypeError(f'Compose: transforms must be a list of config dicts or callables, '
                            f'got {type(transforms).__name__}')
        self.transforms = []
        for index, transform in enumerate(transforms):
            if isinstance(transform, dict):
                transform = build_with_known_types(transform, PIPELINES)
            elif not callable(transform):
                raise TypeError(f'Compose: step {index} must be a config dict or a callable, '
                                f'got {type(transform).__name__}: {transform!r}')
            self.transforms.append(transform)

    def __call__(self, data: dict) -> Optional[dict]:
        for transform in self.transforms:
            data = transform(data)
            if data is None:
                return None
        return data

    def __repr__(self) -> str:
        steps = ''.join(f'\n    {transform!r}' for transform in self.transforms)
        return f'{self.__class__.__name__}({steps}\n)'
