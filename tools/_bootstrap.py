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
