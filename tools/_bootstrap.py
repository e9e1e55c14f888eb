"""Make `import pyskl` work when a tool runs from a checkout that was not installed with pip.

Importing pyskl first also installs its warning filters before a tool imports mmcv.
"""
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
try:
    import pyskl  # noqa: F401
except ImportError:
    sys.path.insert(0, REPO_ROOT)
    import pyskl  # noqa: F401


def run_cli(main, user_errors: tuple = ()) -> None:
    """Run a tool's ``main()``; a user mistake (a config, annotation or type-name error, whose message names the file
    and what to do; or one of the tool's own ``user_errors`` types) ends with that message and exit code 1 instead of
    a traceback. ``PYSKL_TRACEBACK=1`` shows the traceback too."""
    import os

    from pyskl.datasets.errors import AnnotationError
    from pyskl.utils.config_check import ConfigError
    from pyskl.utils.dist import shutdown_dist
    from pyskl.utils.registry import UnknownTypeError
    try:
        main()
        shutdown_dist()  # every rank waits for the others before the process group goes
    except (ConfigError, AnnotationError, UnknownTypeError, *user_errors) as exc:
        if os.environ.get('PYSKL_TRACEBACK'):
            raise
        sys.exit(f'error: {exc}')
    except KeyError as exc:  # `check_data_keys`: a misspelt key in data
        if not str(exc).startswith('"unknown keys in data') or os.environ.get('PYSKL_TRACEBACK'):
            raise
        sys.exit(f'error: {exc.args[0]}')


def file_errors() -> tuple:
    """The errors with which the inference and analysis tools refuse a file (a missing or existing output, a scores
    file or sample that does not match, a checkpoint that cannot be read or does not fit): each message names the
    file and what to do."""
    from pyskl.apis.inference import CheckpointMismatchError
    from pyskl.utils.checkpoint import CheckpointError
    return (FileExistsError, FileNotFoundError, ValueError, CheckpointError, CheckpointMismatchError)
