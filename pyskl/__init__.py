"""pyskl: skeleton action recognition from pose heatmap volumes, with a language branch."""
import warnings

# mmcv 1.x announces its 2.0 rename on every import; it says nothing about this package
warnings.filterwarnings('ignore', message='On January 1, 2023, MMCV will release v2.0.0')

__version__ = '0.1.0'
