"""Registry helpers shared by the dataset and model builders."""
from mmcv.utils import Registry, build_from_cfg


class UnknownTypeError(KeyError):
    """A config names a type that is not registered (a KeyError whose message prints without extra quoting)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def build_with_known_types(cfg, registry: Registry, default_args=None):
    """`build_from_cfg` whose error for an unknown ``type`` lists every registered name.

    Args:
        cfg (dict): config dict with a ``type`` key.
        registry (Registry): where to look the type up.
        default_args (dict, optional): arguments merged into ``cfg``.
    """
    if not isinstance(cfg, dict):
        raise TypeError(f'a {registry.name} config must be a dict, got {type(cfg).__name__}: {cfg!r}')
    if 'type' not in cfg:
        raise UnknownTypeError(f'the {registry.name} config {dict(cfg)!r} has no "type" key; '
                       f'known {registry.name} types: {", ".join(sorted(registry.module_dict))}')
    obj_type = cfg['type']
    if isinstance(obj_type, str) and registry.get(obj_type) is None:
        raise UnknownTypeError(f'unknown {registry.name} type {obj_type!r}; '
                       f'known {registry.name} types: {", ".join(sorted(registry.module_dict))}')
    return build_from_cfg(cfg, registry, default_args)
