"""Install pyskl: `pip install -e .` (see the Makefile for the full, ordered install)."""
from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


setup(
    name='pyskl',
    version='0.1.0',
    description='Skeleton action recognition with a language branch, on the pyskl config contract',
    packages=find_packages(exclude=('tests', 'configs', 'tools', 'benchmarks')),
    python_requires='>=3.9',
    install_requires=['torch>=2.0', 'mmcv>=1.7,<2'] + read_requirements('requirements.txt'),
    extras_require={
        'dev': read_requirements('requirements-dev.txt'),
        'pose': ['mmdet<3', 'mmpose<1'],
        # `tensorboard = True` in a config
        'tensorboard': ['tensorboard>=2.10'],
        # MP4 output of tools/analysis/visualize.py (GIFs need only pillow)
        'video': ['imageio-ffmpeg>=0.4'],
    },
)
