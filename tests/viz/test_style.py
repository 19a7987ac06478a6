"""klviz.viz.style: the book style and its axes helpers."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest

from klviz.viz.style import book_style, new_axes, new_axes_row, offscreen_axes


def test_book_style_keeps_interactive_mode(monkeypatch):
    # Jupyter's inline backend switches interactive mode on while the first figure is created;
    # leaving the style's rc_context must not switch it off again (later figures would vanish)
    real = plt.subplots

    def inline_like_subplots(*args, **kwargs):
        matplotlib.interactive(True)
        return real(*args, **kwargs)

    was = matplotlib.is_interactive()
    monkeypatch.setattr(plt, "subplots", inline_like_subplots)
    try:
        matplotlib.interactive(False)
        new_axes()
        assert matplotlib.is_interactive()
    finally:
        matplotlib.interactive(was)


def test_new_axes_row_makes_or_checks_panels():
    fig, axes = new_axes_row(ncols=3)
    assert len(axes) == 3 and all(a.figure is fig for a in axes)
    assert new_axes_row(axes, ncols=3) == (fig, axes)
    with pytest.raises(ValueError, match="ax: give 2 axes"):
        new_axes_row(axes)


def test_new_axes_uses_given_axes_or_the_style():
    fig, ax = plt.subplots()
    assert new_axes(ax) == (fig, ax)
    with book_style():
        size = tuple(matplotlib.rcParams["figure.figsize"])
    fig2, _ = new_axes()
    assert tuple(fig2.get_size_inches()) == pytest.approx(size)


def test_offscreen_axes_are_not_tracked_by_pyplot():
    before = plt.get_fignums()
    fig, axes = offscreen_axes(2, figsize=(8.0, 3.0))
    assert len(axes) == 2 and plt.get_fignums() == before
    assert tuple(fig.get_size_inches()) == pytest.approx((8.0, 3.0))
    assert axes[0].spines["top"].get_visible() is False  # drawn in the book style
