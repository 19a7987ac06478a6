"""Kernel-free slider of chapter ``ch-kl``, KL divergence: forward vs reverse KL fits to a mixture."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz.fitting import default_grid, fit_mixture, gaussian_log_density, mixture_log_density
from klviz.online.base import slider_figure

__all__ = ["mode_fit_slider"]

DEFAULT_SEPARATIONS = tuple(0.5 * i for i in range(17))  # 0, 0.5, ..., 8


def mode_fit_slider(separations: Sequence[float] = DEFAULT_SEPARATIONS, weight: float = 0.5):
    r"""Plotly figure: the mixture :math:`p` and its forward-KL and reverse-KL Gaussian fits,
    one slider step per separation of the modes.  All fits are precomputed with
    :func:`klviz.fitting.fit_mixture` (the static figure's function), so no kernel is needed."""
    x_all = default_grid()
    x = x_all[(np.abs(x_all) <= 8.0)][::2]

    def frame(d: float):
        fits = fit_mixture(d, weight, x=x_all)
        p = np.exp(mixture_log_density(x, separation=d, weight=weight))
        f, r = fits["forward"], fits["reverse"]
        return [
            {"x": x, "y": p, "name": "target p (mixture)", "color": "#555555"},
            {"x": x, "y": np.exp(gaussian_log_density(x, f.mu, f.sigma)),
             "name": f"forward KL fit (mu={f.mu:.2f}, sigma={f.sigma:.2f})"},
            {"x": x, "y": np.exp(gaussian_log_density(x, r.mu, r.sigma)),
             "name": f"reverse KL fit (mu={r.mu:.2f}, sigma={r.sigma:.2f})", "dash": "dash"},
        ]

    return slider_figure(
        frame, separations, slider_label="separation", value_format="{:.1f}",
        title=f"Forward vs reverse KL (left weight {weight:g})",
        xaxis_title="x", yaxis_title="density", yaxis_range=[0, 0.45], xaxis_range=[-8, 8],
        active=len(separations) * 3 // 4,
    )
