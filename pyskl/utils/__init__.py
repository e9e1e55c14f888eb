from .logger import get_root_logger
from .registry import UnknownTypeError, build_with_known_types

__all__ = ['get_root_logger', 'build_with_known_types', 'UnknownTypeError']
