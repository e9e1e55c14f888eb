"""Headless matplotlib: the Agg backend is selected before pyplot is imported, so no display is ever needed."""
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (a clear error naming the install command when missing)."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError('the analysis tools need matplotlib: pip install -r requirements.txt (or pip install '
                          'matplotlib)') from e
    matplotlib.use('Agg', force=True)
    import matplotlib.pyplot as plt
    return plt
