"""ipywidgets explorers for readers who run the chapters locally.

Every explorer is an :class:`Explorer`: a dict of controls and a plot function from
:mod:`klviz.plots`. Moving a control calls the same plot function the static figure in the
chapter uses, so the static and the interactive figure cannot drift apart. Tests set
``explorer.controls[name].value`` and read :func:`figure_data` of ``explorer.figure``.
"""

from klviz.widgets.base import Explorer, figure_data

__all__ = ["Explorer", "figure_data"]
