"""Logging: one named logger for the whole package."""
import logging

from mmcv.utils import get_logger


def get_root_logger(log_file: str = None, log_level: int = logging.INFO) -> logging.Logger:
    """The ``pyskl`` logger; the first call with ``log_file`` also writes to that file (rank 0)."""
    return get_logger(__name__.split('.')[0], log_file, log_level)
