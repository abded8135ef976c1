"""What every technique's plots share: matplotlib imported lazily, a figure drawn off screen,
and a checked Axes to draw into.

Figures are made with the Agg canvas and never through pyplot, so plotting works on headless
machines, in threads and in batch jobs, and nothing is ever shown. Each technique's
``plot`` module draws; this module only holds the plumbing they all need.
"""

from __future__ import annotations

from typing import Any

from ssbkit.core.errors import DependencyError, InputError

__all__ = ["matplotlib_package", "new_figure", "target_axes"]


def matplotlib_package() -> Any:
    """The matplotlib package (with axes, figure, patches and the Agg canvas loaded), or
    ``DependencyError`` naming the extra to install."""
    try:
        import matplotlib
        import matplotlib.axes
        import matplotlib.figure
        import matplotlib.patches
        from matplotlib.backends import backend_agg  # noqa: F401  (attaches the Agg canvas)
    except ImportError:
        raise DependencyError('plots need matplotlib: pip install "ssbkit[plot]"') from None
    return matplotlib


def new_figure(width: float, height: float) -> Any:
    """A constrained-layout Figure of ``width`` × ``height`` inches on an Agg canvas."""
    mpl = matplotlib_package()
    fig = mpl.figure.Figure(figsize=(width, height), layout="constrained")
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    return fig


def target_axes(ax: Any, width: float, height: float) -> Any:
    """``ax`` checked to be a matplotlib Axes, or the single Axes of a new figure."""
    mpl = matplotlib_package()
    if ax is None:
        return new_figure(width, height).add_subplot()
    if not isinstance(ax, mpl.axes.Axes):
        raise InputError(f"must be a matplotlib Axes, got {type(ax).__name__}", source="ax")
    return ax
