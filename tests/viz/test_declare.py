"""klviz.viz.declare: parameters, declarations and the static renderer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from klviz.viz import REQUIRED, FigureSpec, Param, figure_title


def test_param_range_is_inclusive_and_rounded():
    p = Param.range("eps", "ε", start=0.0, stop=0.5, step=0.05, default=0.1)
    assert p.grid() == (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
    assert p.step(p.grid()) == 0.05 and p.default_in(p.grid()) == 0.1
    ints = Param.range("n", "n", start=2, stop=10, step=2)
    assert ints.grid() == (2, 4, 6, 8, 10) and all(isinstance(v, int) for v in ints.grid())
    assert ints.default_in(ints.grid()) == 2  # no default: the first value


def test_param_rejects_bad_grids():
    with pytest.raises(ValueError, match="whole number of steps"):
        Param.range("t", "T", start=0, stop=1, step=0.3)
    with pytest.raises(ValueError, match="step"):
        Param.range("t", "T", start=0, stop=1, step=0)
    with pytest.raises(ValueError, match="not on the slider grid"):
        Param("t", "T", (1.0, 2.0), default=1.5).default_in((1.0, 2.0))
    with pytest.raises(ValueError, match="empty"):
        Param("t", "T", ()).grid()


def test_uneven_grids_have_no_step_and_grids_may_depend_on_inputs():
    p = Param("t", "T", (0.1, 0.2, 0.5))
    assert p.step(p.grid()) is None
    runs = Param("run", "run", lambda inputs: range(len(inputs["runs"])))
    assert runs.grid({"runs": "abc"}) == (0, 1, 2)


def _draw(axes, data, values):
    for ax in np.atleast_1d(axes):
        ax.plot(data["x"], data["y"])


SPEC = FigureSpec(id="toy-declare", title="a = {a:g}, peak {peak:.2f}", xlabel="$x$", ylabel="{unit}",
                  params=(Param("a", "a", (1.0, 2.0), default=2.0),), inputs={"unit": "nats"},
                  data=lambda a, unit: {"x": [0, 1], "y": [0, a], "peak": a}, draw=_draw)


def test_static_figure_takes_title_and_labels_from_the_declaration():
    fig = SPEC()
    ax = fig.axes[0]
    assert figure_title(fig) == "a = 2, peak 2.00" and ax.get_xlabel() == "$x$" and ax.get_ylabel() == "nats"
    assert SPEC(a=1.5, unit="bits").axes[0].get_ylabel() == "bits"  # the static figure takes any value
    fig2, ax2 = plt.subplots()
    assert SPEC(ax=ax2) is fig2


def test_panels_share_a_suptitle_and_take_labels_per_panel():
    spec = FigureSpec(id="toy-panels", title="two", xlabel=("left", "right"), panels=2,
                      params=(Param("a", "a", (1.0,)),), data=lambda a: {"x": [0, 1], "y": [0, a]}, draw=_draw)
    fig = spec()
    assert figure_title(fig) == "two" and [ax.get_xlabel() for ax in fig.axes] == ["left", "right"]


def test_values_name_the_bad_argument():
    with pytest.raises(TypeError, match="no argument"):
        SPEC(b=1)
    spec = FigureSpec(id="toy-required", title=None, inputs={"probs": REQUIRED},
                      data=lambda probs: {"x": [0, 1], "y": probs}, draw=_draw)
    with pytest.raises(TypeError, match=r"give \['probs'\]"):
        spec()
    assert spec(probs=[0.5, 0.5]).axes[0].get_lines()[0].get_ydata().tolist() == [0.5, 0.5]


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="needs a title"):
        FigureSpec(id="x", title=None, params=(Param("a", "a", (1,)),), data=dict, draw=_draw)
    with pytest.raises(ValueError, match="declared twice"):
        FigureSpec(id="x", title="t", params=(Param("a", "a", (1,)),), inputs={"a": 1}, data=dict, draw=_draw)
    with pytest.raises(ValueError, match="online_param"):
        FigureSpec(id="x", title="t", params=(Param("a", "a", (1,)),), online_param="b", data=dict, draw=_draw)
