"""klviz.fitting: forward / reverse KL Gaussian fits, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from klviz.fitting import (
    GKDFit,
    default_grid,
    fit_gaussian,
    fit_mixture,
    gaussian_log_density,
    gkd_fits,
    grid_kl,
    mixture_log_density,
    moment_match,
)

X = default_grid()


def test_gaussian_log_density_matches_scipy():
    np.testing.assert_allclose(gaussian_log_density(X, 0.3, 1.7), stats.norm(0.3, 1.7).logpdf(X), atol=1e-12)


def test_mixture_density_matches_scipy_and_integrates_to_one():
    d, w = 3.0, 0.3
    ref = w * stats.norm(-d / 2, 1).pdf(X) + (1 - w) * stats.norm(d / 2, 1).pdf(X)
    got = np.exp(mixture_log_density(X, separation=d, weight=w))
    np.testing.assert_allclose(got, ref, atol=1e-14)
    assert integrate.trapezoid(got, X) == pytest.approx(1.0, abs=1e-9)
    # far tails stay finite in log space
    assert np.isfinite(mixture_log_density(np.array([-1e3, 1e3]), separation=d, weight=w)).all()


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 8.0), st.floats(0.1, 0.9))
def test_forward_fit_is_moment_matching(d, w):
    log_p = mixture_log_density(X, separation=d, weight=w)
    fit = fit_gaussian(X, log_p, direction="forward")
    # analytic moments of the mixture: mean (1-2w) d/2, variance 1 + d^2 w (1-w)
    mu = (1 - 2 * w) * d / 2
    var = 1 + d**2 * w * (1 - w)
    assert fit.mu == pytest.approx(mu, abs=1e-4)
    assert fit.sigma == pytest.approx(np.sqrt(var), abs=1e-4)
    mm = moment_match(X, log_p)
    assert mm[0] == pytest.approx(mu, abs=1e-8) and mm[1] == pytest.approx(np.sqrt(var), abs=1e-6)


def _brute_force_reverse(d, w):
    """Nelder-Mead from many starts on an independent numpy/scipy objective."""
    log_p = stats.norm.logpdf(X[:, None], [-d / 2, d / 2], 1.0) + np.log([w, 1 - w])
    log_p = np.logaddexp(log_p[:, 0], log_p[:, 1])

    def rkl(theta):
        lq = stats.norm.logpdf(X, theta[0], np.exp(theta[1]))
        lq_n = lq - np.logaddexp.reduce(lq)
        lp_n = log_p - np.logaddexp.reduce(log_p)
        return float(np.sum(np.exp(lq_n) * (lq_n - lp_n)))

    best = min(
        (optimize.minimize(rkl, [m, s], method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000})
         for m in np.linspace(-d, d, 5) for s in (0.0, 1.0)),
        key=lambda r: r.fun,
    )
    return best.x[0], np.exp(best.x[1]), best.fun


@pytest.mark.parametrize("d,w", [(2.0, 0.5), (4.0, 0.3), (6.0, 0.5), (8.0, 0.7)])
def test_reverse_fit_matches_brute_force(d, w):
    fit = fit_mixture(d, w)["reverse"]
    mu, sigma, value = _brute_force_reverse(d, w)
    assert fit.divergence == pytest.approx(value, abs=1e-7)
    assert fit.divergence <= value + 1e-9
    if d <= 4 or w != 0.5:  # at w = 0.5 and far modes both modes are equally good
        assert fit.mu == pytest.approx(mu, abs=1e-3)
    else:
        assert abs(fit.mu) == pytest.approx(abs(mu), abs=1e-3)
    assert fit.sigma == pytest.approx(sigma, abs=1e-3)


def test_mode_seeking_vs_mode_covering():
    fits = fit_mixture(8.0, 0.5)
    f, r = fits["forward"], fits["reverse"]
    assert abs(f.mu) < 1e-6 and f.sigma == pytest.approx(np.sqrt(17), abs=1e-4)
    assert abs(abs(r.mu) - 4.0) < 0.01 and r.sigma == pytest.approx(1.0, abs=0.01)
    # each fit is optimal for its own direction, not for the other
    log_p = mixture_log_density(X, separation=8.0)
    lf, lr = gaussian_log_density(X, f.mu, f.sigma), gaussian_log_density(X, r.mu, r.sigma)
    assert grid_kl(X, log_p, lf) < grid_kl(X, log_p, lr)
    assert grid_kl(X, lr, log_p) < grid_kl(X, lf, log_p)
    # reverse KL of one mode ~ log 2 (it misses half the mass)
    assert r.divergence == pytest.approx(np.log(2), abs=1e-3)


def test_identical_target_gives_zero():
    fit = fit_gaussian(X, gaussian_log_density(X, 1.0, 2.0), direction="reverse")
    assert fit.divergence == pytest.approx(0.0, abs=1e-10)
    assert fit.mu == pytest.approx(1.0, abs=1e-5) and fit.sigma == pytest.approx(2.0, abs=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="direction"):
        fit_gaussian(X, mixture_log_density(X), direction="backward")
    with pytest.raises(ValueError, match="weight"):
        mixture_log_density(X, weight=1.0)
    with pytest.raises(ValueError, match="separation"):
        mixture_log_density(X, separation=-1.0)
    with pytest.raises(ValueError, match="log_p"):
        fit_gaussian(X, mixture_log_density(X)[:-1])
    with pytest.raises(ValueError, match="x must"):
        fit_gaussian(X[::-1], mixture_log_density(X))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_log_density(X, 0.0, -1.0)
    with pytest.raises(ValueError, match="n"):
        default_grid(2)
    with pytest.raises(TypeError, match="n"):
        default_grid(10.0)


# --------------------------------------------------------------------------- GKD (ch-kl-practice)
@pytest.mark.slow
def test_gkd_fits_interpolate_between_forward_and_reverse():
    x, log_p, fits = gkd_fits((0.0, 0.5, 0.9, 1.0), x=np.linspace(-10, 10, 401))
    assert all(isinstance(f, GKDFit) for f in fits)
    by_beta = {f.beta: f for f in fits}
    # forward KL: the student covers both modes (broad), reverse KL: it sits on the heavier left mode
    assert by_beta[0.0].sigma > 2.0 and by_beta[1.0].sigma < 1.3
    assert by_beta[1.0].mu == pytest.approx(-2.5, abs=0.2)
    assert by_beta[0.9].sigma < by_beta[0.5].sigma
    # the endpoints are the forward and reverse KL fits
    fwd = fit_gaussian(x, log_p, direction="forward")
    assert by_beta[0.0].mu == pytest.approx(fwd.mu) and by_beta[0.0].sigma == pytest.approx(fwd.sigma)


def test_gkd_fits_bad_input():
    with pytest.raises(ValueError, match="beta"):
        gkd_fits((1.5,))
    with pytest.raises(ValueError, match="steps"):
        gkd_fits((0.5,), steps=0)
