"""Helpers of the analysis tools (tools/analysis/): headless plotting, safe output files, sample selection,
skeleton rendering."""
from .outputs import check_new_files, save_figure, write_csv, write_json
from .plotting import pyplot
from .samples import load_pose_samples, select_samples

__all__ = ['check_new_files', 'save_figure', 'write_csv', 'write_json', 'pyplot', 'load_pose_samples',
           'select_samples']
