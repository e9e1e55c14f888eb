"""pyskl: skeleton action recognition from pose heatmap volumes, with a language branch."""
__version__ = '0.1.0'
