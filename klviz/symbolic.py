r"""Symbolic (sympy) expressions and proofs that the chapters display.

Each function builds its expressions from fresh sympy symbols, so the chapters can print
them (:func:`latex`), differentiate them, or ``lambdify`` them and compare with the
numerical measures in :mod:`klviz.info`.  All logarithms are natural (nats).

The proofs return the *simplified differences* between two sides of an identity; an
identity holds when every difference is exactly ``0`` (symbolic simplification, not a
numerical spot check).
"""

from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

__all__ = [
    "probabilities",
    "logits",
    "softmax_expr",
    "log_softmax_expr",
    "entropy_expr",
    "cross_entropy_expr",
    "kl_expr",
    "js_expr",
    "kd_kl_gradient",
    "prove_dkl_gradient_equivalence",
    "max_entropy_lagrange",
    "binary_entropy_expr",
    "binary_entropy_maximum",
    "gaussian_kl_expr",
    "gaussian_kl_closed_form",
    "gaussian_symbols",
    "vae_kl_expr",
    "vae_kl_closed_form",
    "bce_gradient",
    "wmse_identity",
    "latex",
]


# ----------------------------------------------------------------------------- symbols
def _check_n(n: Any, name: str = "n", minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {n!r}")
    return n


def probabilities(n: int, name: str = "p") -> list[sp.Symbol]:
    """``n`` positive symbols ``p_1 ... p_n`` (positivity lets sympy simplify logs)."""
    _check_n(n)
    return list(sp.symbols(f"{name}_1:{n + 1}", positive=True))


def logits(n: int, name: str = "z") -> list[sp.Symbol]:
    """``n`` real symbols ``z_1 ... z_n`` for logits."""
    _check_n(n)
    return list(sp.symbols(f"{name}_1:{n + 1}", real=True))


# ----------------------------------------------------------------------------- measures
def softmax_expr(z: Sequence[sp.Expr], T: Any = None) -> list[sp.Expr]:
    r"""Softmax with optional temperature :math:`T`:
    :math:`\operatorname{softmax}(z/T)_i = e^{z_i/T} / \sum_j e^{z_j/T}`.

    Chapter ``ch-probability`` (Probability and softmax).
    """
    scaled = [zi if T is None else zi / T for zi in z]
    den = sum(sp.exp(zi) for zi in scaled)
    return [sp.exp(zi) / den for zi in scaled]


def log_softmax_expr(z: Sequence[sp.Expr], T: Any = None) -> list[sp.Expr]:
    r"""Log-softmax written as :math:`z_i/T - \log\sum_j e^{z_j/T}` (the form that stays
    simple under differentiation)."""
    scaled = [zi if T is None else zi / T for zi in z]
    lse = sp.log(sum(sp.exp(zi) for zi in scaled))
    return [zi - lse for zi in scaled]


def _pairs(p: Sequence[Any], q: Sequence[Any]) -> list[tuple[Any, Any]]:
    if len(p) != len(q):
        raise ValueError(f"p and q must have the same length, got {len(p)} and {len(q)}")
    return list(zip(p, q))


def entropy_expr(p: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`H(p) = -\sum_i p_i \log p_i`.  Chapter ``ch-entropy`` (Entropy)."""
    return -sum(pi * sp.log(pi) for pi in p)


def cross_entropy_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`H(p, q) = -\sum_i p_i \log q_i`.  Chapter ``ch-cross-entropy`` (Cross-entropy)."""
    return -sum(pi * sp.log(qi) for pi, qi in _pairs(p, q))


def kl_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i \log(p_i / q_i)`.
    Chapter ``ch-kl`` (KL divergence)."""
    return sum(pi * sp.log(pi / qi) for pi, qi in _pairs(p, q))


def js_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`D_{\mathrm{JS}}(p\|q) = \tfrac12 D_{\mathrm{KL}}(p\|m) + \tfrac12 D_{\mathrm{KL}}(q\|m)`,
    :math:`m = (p+q)/2`.  Chapter ``ch-kl`` (KL divergence)."""
    m = [(pi + qi) / 2 for pi, qi in _pairs(p, q)]
    return sp.Rational(1, 2) * kl_expr(p, m) + sp.Rational(1, 2) * kl_expr(q, m)


# ----------------------------------------------------------------------------- gradient proofs
def _exp_atoms_to_symbols(
    exprs: Sequence[sp.Expr], scaled: Sequence[sp.Expr], new: Sequence[sp.Symbol]
) -> list[sp.Expr]:
    """Replace exp(o_i / T) by a positive symbol: the expressions become rational functions in
    those symbols (plus log-sum-exp atoms), which ``cancel`` simplifies in milliseconds where
    ``simplify`` on exponentials takes minutes."""
    mapping = {sp.exp(s): a for s, a in zip(scaled, new)}
    return [e.subs(mapping) for e in exprs]


def _simplify_zero(expr: sp.Expr) -> sp.Expr:
    """Bring to one fraction and expand the numerator: an identity gives exactly 0."""
    num, den = sp.fraction(sp.together(sp.expand(expr)))
    num = sp.expand(num)
    if num == 0:
        return sp.Integer(0)
    return sp.simplify(sp.expand_log(num / den, force=True))


def _exact_temperature(value: Any, name: str) -> sp.Expr:
    """A temperature as an exact sympy number (or a given symbol): floats become rationals,
    because the proofs' differences only cancel to 0 in exact arithmetic."""
    T = sp.sympify(value) if isinstance(value, sp.Basic) else sp.nsimplify(value, rational=True)
    if T.is_positive is False or (T.is_number and not T.is_positive):
        raise ValueError(f"{name} must be positive, got {value!r}")
    return T


def kd_kl_gradient(n: int, T: Any = None) -> tuple[list[sp.Expr], list[sp.Expr], list[sp.Expr]]:
    r"""Gradient of the distillation KL with respect to the student logits.

    With teacher :math:`p = \operatorname{softmax}(t/T)` and student
    :math:`q = \operatorname{softmax}(s/T)`,

    .. math:: \frac{\partial}{\partial s_i} D_{\mathrm{KL}}(p\|q) = \frac{q_i - p_i}{T}

    (Hinton et al. 2015; the :math:`T^2` factor of the KD loss cancels the :math:`1/T^2`
    this gives at high temperature).  ``T`` defaults to a positive symbol ``T``.

    Returns ``(gradient, closed_form, differences)``; every difference is 0.
    Chapter ``ch-kl-practice`` (KL in practice).
    """
    _check_n(n)
    T = sp.Symbol("T", positive=True) if T is None else _exact_temperature(T, "T")
    t = logits(n, "t")
    s = logits(n, "s")
    lp = log_softmax_expr(t, T)
    lq = log_softmax_expr(s, T)
    p = softmax_expr(t, T)
    q = softmax_expr(s, T)
    kl = sum(pi * (lpi - lqi) for pi, lpi, lqi in zip(p, lp, lq))
    grad = [sp.diff(kl, si) for si in s]
    closed = [(qi - pi) / T for pi, qi in zip(p, q)]
    a = list(sp.symbols(f"a_1:{n + 1}", positive=True))
    b = list(sp.symbols(f"b_1:{n + 1}", positive=True))
    scaled = [x / T for x in t] + [x / T for x in s]
    diffs = _exp_atoms_to_symbols([g - c for g, c in zip(grad, closed)], scaled, a + b)
    diffs = [_simplify_zero(d) for d in diffs]
    back = {ai: sp.exp(x) for ai, x in zip(a + b, scaled)}
    # simplify as rational functions of a_i = exp(t_i/T), b_i = exp(s_i/T), then map back
    grad_ab = _exp_atoms_to_symbols(grad, scaled, a + b)
    grad_simple = [sp.cancel(sp.together(g)).subs(back) for g in grad_ab]
    return grad_simple, closed, diffs


def prove_dkl_gradient_equivalence(
    n: int, *, temperature: Any = None, stop_gradient: bool = True
) -> dict[str, Any]:
    r"""Prove symbolically that KL and the decoupled KL (DKL) loss have the same gradients.

    Teacher/clean logits :math:`o_m`, student/adversarial logits :math:`o_n`,
    :math:`s_m = \operatorname{softmax}(o_m/T)`, :math:`s_n = \operatorname{softmax}(o_n/T)`.
    The DKL loss of Cui et al. (2023, arXiv 2305.13948), with :math:`\alpha=\beta=1`,
    :math:`\Delta m_{jk} = (o_{m,j} - o_{m,k})/T`, :math:`\Delta n_{jk} = (o_{n,j} - o_{n,k})/T`
    and :math:`\operatorname{S}` the stop-gradient:

    .. math::
        \mathrm{DKL} = \frac{\alpha}{4} \sum_{j,k} \operatorname{S}(w_{jk})
            \big(\Delta m_{jk} - \operatorname{S}(\Delta n_{jk})\big)^2
            - \beta\, \operatorname{S}(s_m)^\top \log s_n,
        \qquad w_{jk} = s_{m,j}\, s_{m,k}.

    Claim: :math:`\nabla_{o_n} \mathrm{KL}(s_m\|s_n) = \nabla_{o_n}\mathrm{DKL}` (both
    :math:`(s_n - s_m)/T`) and :math:`\nabla_{o_m}\mathrm{KL} = \nabla_{o_m}\mathrm{DKL}`, where

    .. math::
        \frac{\partial \mathrm{KL}}{\partial o_{m,j}} = \frac{s_{m,j}}{T}\Big(
            (\log s_{m,j} - \log s_{n,j}) - \sum_k s_{m,k}(\log s_{m,k} - \log s_{n,k})\Big).

    The stop-gradient is implemented the way autograd does it: the stopped quantities are
    replaced by fresh symbols before differentiating and substituted back afterwards.

    ``temperature=None`` uses :math:`T = 1`; pass a number (floats are turned into exact
    rationals) or ``True`` for a positive symbol ``T``.

    ``stop_gradient=False`` drops every :math:`\operatorname{S}` (gradients then also flow
    through the weights, the student differences and the soft labels) and the equivalence
    fails: the residuals are nonzero, which shows that the stop-gradients are what make DKL
    equal to KL.

    Returns a dict with ``student_residuals`` and ``teacher_residuals`` (the simplified
    :math:`\partial\mathrm{KL} - \partial\mathrm{DKL}` per logit; all 0),
    ``closed_form_residuals`` (the two formulas above against sympy's derivative; all 0),
    the gradients (``grad_kl_student``, ``grad_dkl_student``, ``grad_kl_teacher``,
    ``grad_dkl_teacher``), the symbols ``o_m``, ``o_n``, the losses ``kl``, ``dkl`` and
    ``holds`` (bool).
    Chapter ``ch-dkl`` (Decoupled KL).
    """
    _check_n(n, minimum=2)
    if temperature is None:
        T: Any = sp.Integer(1)
    elif temperature is True:
        T = sp.Symbol("T", positive=True)
    else:
        T = _exact_temperature(temperature, "temperature")
    om = logits(n, "o_m")
    on = logits(n, "o_n")
    lsm = log_softmax_expr(om, T)
    lsn = log_softmax_expr(on, T)
    sm = softmax_expr(om, T)
    sn = softmax_expr(on, T)

    kl = sum(p * (a - b) for p, a, b in zip(sm, lsm, lsn))

    # stop-gradient placeholders
    W = [[sp.Symbol(f"W_{j}{k}") for k in range(n)] for j in range(n)]
    Dn = [[sp.Symbol(f"D_{j}{k}") for k in range(n)] for j in range(n)]
    P = [sp.Symbol(f"P_{j}") for j in range(n)]
    alpha = beta = sp.Integer(1)
    wmse = (
        alpha
        / 4
        * sum(
            W[j][k] * ((om[j] - om[k]) / T - Dn[j][k]) ** 2
            for j in range(n)
            for k in range(n)
        )
    )
    ce = -beta * sum(P[j] * lsn[j] for j in range(n))
    dkl_sg = wmse + ce
    unstop = {}
    for j in range(n):
        unstop[P[j]] = sm[j]
        for k in range(n):
            unstop[W[j][k]] = sm[j] * sm[k]
            unstop[Dn[j][k]] = (on[j] - on[k]) / T
    dkl_value = dkl_sg.subs(unstop)

    a = list(sp.symbols(f"a_1:{n + 1}", positive=True))
    b = list(sp.symbols(f"b_1:{n + 1}", positive=True))
    scaled = [x / T for x in om] + [x / T for x in on]

    def residuals(wrt: Sequence[sp.Symbol]) -> tuple[list, list, list]:
        g_kl = [sp.diff(kl, x) for x in wrt]
        if stop_gradient:
            g_dkl = [sp.diff(dkl_sg, x).subs(unstop) for x in wrt]
        else:
            g_dkl = [sp.diff(dkl_value, x) for x in wrt]
        diffs = _exp_atoms_to_symbols(
            [g1 - g2 for g1, g2 in zip(g_kl, g_dkl)], scaled, a + b
        )
        return g_kl, g_dkl, [_simplify_zero(d) for d in diffs]

    g_kl_n, g_dkl_n, res_n = residuals(on)
    g_kl_m, g_dkl_m, res_m = residuals(om)
    # the closed forms quoted in the docstring, checked too
    closed_n = [(sn[i] - sm[i]) / T for i in range(n)]
    r = [lsm[i] - lsn[i] for i in range(n)]
    kl_r = sum(sm[k] * r[k] for k in range(n))
    closed_m = [sm[i] * (r[i] - kl_r) / T for i in range(n)]
    res_closed = [
        _simplify_zero(d)
        for d in _exp_atoms_to_symbols(
            [g - c for g, c in zip(g_kl_n + g_kl_m, closed_n + closed_m)], scaled, a + b
        )
    ]
    holds = all(x == 0 for x in res_n + res_m + res_closed)
    return {
        "n": n,
        "temperature": T,
        "o_m": om,
        "o_n": on,
        "s_m": sm,
        "s_n": sn,
        "kl": kl,
        "dkl": dkl_value,
        "dkl_stop_gradient": dkl_sg,
        "grad_kl_student": g_kl_n,
        "grad_dkl_student": g_dkl_n,
        "grad_kl_teacher": g_kl_m,
        "grad_dkl_teacher": g_dkl_m,
        "closed_form_student": closed_n,
        "closed_form_teacher": closed_m,
        "student_residuals": res_n,
        "teacher_residuals": res_m,
        "closed_form_residuals": res_closed,
        "holds": bool(holds),
    }


# ----------------------------------------------------------------------------- entropy facts
def max_entropy_lagrange(n: int) -> dict[str, Any]:
    r"""Maximise :math:`H(p)` subject to :math:`\sum_i p_i = 1` with a Lagrange multiplier.

    .. math::
        \mathcal L(p, \lambda) = -\sum_i p_i \log p_i + \lambda\Big(\sum_i p_i - 1\Big),
        \qquad \partial_{p_i}\mathcal L = -\log p_i - 1 + \lambda = 0
        \;\Rightarrow\; p_i = e^{\lambda - 1} = \frac1n,\; H = \log n .

    Returns a dict: ``p`` (symbols), ``lam``, ``lagrangian``, ``equations`` (stationarity
    and constraint), ``solution`` (``{p_i: 1/n, lam: 1 - log n}``), ``p_star`` (list of
    values), ``entropy`` (``log n``) and ``hessian_diagonal`` (:math:`-1/p_i < 0`: a maximum).
    Chapter ``ch-entropy`` (Entropy).
    """
    _check_n(n)
    p = probabilities(n)
    lam = sp.Symbol("lambda", real=True)
    H = entropy_expr(p)
    L = H + lam * (sum(p) - 1)
    stationarity = [sp.Eq(sp.diff(L, pi), 0) for pi in p]
    constraint = sp.Eq(sum(p), 1)
    # each stationarity equation gives p_i in terms of lambda; the constraint then fixes lambda
    p_of_lam = {pi: sp.solve(eq, pi)[0] for pi, eq in zip(p, stationarity)}
    lam_sol = sp.solve(constraint.subs(p_of_lam), lam)
    lam_star = sp.simplify(lam_sol[0])
    solution = {pi: sp.simplify(v.subs(lam, lam_star)) for pi, v in p_of_lam.items()}
    solution[lam] = sp.expand_log(lam_star, force=True)
    p_star = [solution[pi] for pi in p]
    return {
        "p": p,
        "lam": lam,
        "lagrangian": L,
        "equations": stationarity + [constraint],
        "solution": solution,
        "p_star": p_star,
        "entropy": sp.simplify(sp.expand_log(H.subs(solution), force=True)),
        "hessian_diagonal": [sp.diff(L, pi, 2) for pi in p],
    }


def binary_entropy_expr(p: Any = None) -> sp.Expr:
    r"""Binary entropy :math:`h(p) = -p\log p - (1-p)\log(1-p)` in the symbol ``p``
    (a fresh symbol on (0, 1) if not given).  Chapter ``ch-entropy`` (Entropy)."""
    if p is None:
        p = sp.Symbol("p", positive=True)
    return -p * sp.log(p) - (1 - p) * sp.log(1 - p)


def binary_entropy_maximum() -> dict[str, Any]:
    r"""Derivative and maximum of the binary entropy.

    .. math:: h'(p) = \log\frac{1-p}{p}, \qquad h''(p) = -\frac{1}{p(1-p)} < 0,
        \qquad \arg\max h = \tfrac12,\; \max h = \log 2 .

    Returns a dict with ``p``, ``h``, ``derivative``, ``second_derivative``, ``argmax``,
    ``maximum``.  Chapter ``ch-entropy`` (Entropy).
    """
    p = sp.Symbol("p", positive=True)
    h = binary_entropy_expr(p)
    d1 = sp.simplify(sp.diff(h, p))
    d2 = sp.simplify(sp.diff(h, p, 2))
    crit = sp.solve(sp.Eq(sp.diff(h, p), 0), p)
    argmax = crit[0]
    return {
        "p": p,
        "h": h,
        "derivative": sp.logcombine(d1, force=True),
        "second_derivative": sp.factor(d2),
        "critical_points": crit,
        "argmax": argmax,
        "maximum": sp.simplify(sp.expand_log(h.subs(p, argmax), force=True)),
    }


# ----------------------------------------------------------------------------- Gaussians
def gaussian_symbols() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol, sp.Symbol]:
    """The symbols ``(mu1, sigma1, mu2, sigma2)`` used by the Gaussian expressions."""
    mu1, mu2 = sp.symbols("mu_1 mu_2", real=True)
    s1, s2 = sp.symbols("sigma_1 sigma_2", positive=True)
    return mu1, s1, mu2, s2


def gaussian_kl_expr() -> sp.Expr:
    r"""Derive :math:`D_{\mathrm{KL}}(\mathcal N(\mu_1,\sigma_1^2)\|\mathcal N(\mu_2,\sigma_2^2))`
    by integrating :math:`\int p(x) \log\frac{p(x)}{q(x)}\,dx` over the real line with sympy.

    The log-ratio is a quadratic in :math:`x`, so the integral reduces to Gaussian moments;
    sympy does it exactly.  Returns the simplified result in the symbols of
    :func:`gaussian_symbols`.  Compare with :func:`gaussian_kl_closed_form`.
    Chapter ``ch-kl`` (KL divergence; the VAE case in chapter ``ch-kl-practice``).
    """
    mu1, s1, mu2, s2 = gaussian_symbols()
    x = sp.Symbol("x", real=True)

    def log_density(mu: sp.Expr, s: sp.Expr) -> sp.Expr:
        return -sp.log(s) - sp.log(2 * sp.pi) / 2 - (x - mu) ** 2 / (2 * s**2)

    p = sp.exp(log_density(mu1, s1))
    log_ratio = sp.expand(log_density(mu1, s1) - log_density(mu2, s2))
    # integrate term by term: each is p(x) * x^k * const, a Gaussian moment
    poly = sp.Poly(log_ratio, x)
    total = sp.Integer(0)
    for (k,), coeff in poly.terms():
        moment = sp.integrate(p * x**k, (x, -sp.oo, sp.oo), conds="none")
        total += coeff * sp.simplify(moment)
    # expanded logs read like the textbook: log(sigma_2) - log(sigma_1) + ...
    return sp.expand(sp.expand_log(sp.simplify(total), force=True))


def gaussian_kl_closed_form() -> sp.Expr:
    r"""The textbook formula
    :math:`\log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1-\mu_2)^2}{2\sigma_2^2} - \frac12`
    in the symbols of :func:`gaussian_symbols`.  Chapter ``ch-kl`` (KL divergence)."""
    mu1, s1, mu2, s2 = gaussian_symbols()
    return sp.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - sp.Rational(1, 2)


def vae_kl_expr(
    d: int, *, mu: Sequence[sp.Symbol] | None = None, logvar: Sequence[sp.Symbol] | None = None
) -> sp.Expr:
    r"""KL of :math:`\mathcal N(\boldsymbol\mu, \operatorname{diag} e^{\ell})` from
    :math:`\mathcal N(\mathbf 0, I)` in ``d`` dimensions, derived by summing the univariate
    closed form with :math:`\sigma_{1,j} = e^{\ell_j/2}`, :math:`\mu_2 = 0`, :math:`\sigma_2 = 1`:

    .. math:: \tfrac12 \sum_{j=1}^d \big(\mu_j^2 + e^{\ell_j} - 1 - \ell_j\big).

    Symbols default to ``mu_1..mu_d`` and ``l_1..l_d`` (real).  Chapter ``ch-kl-practice`` (KL in practice).
    """
    _check_n(d, "d")
    mu = list(mu) if mu is not None else list(sp.symbols(f"mu_1:{d + 1}", real=True))
    logvar = list(logvar) if logvar is not None else list(sp.symbols(f"l_1:{d + 1}", real=True))
    if len(mu) != d or len(logvar) != d:
        raise ValueError(f"mu and logvar must have d={d} symbols each")
    m1, s1, m2, s2 = gaussian_symbols()
    base = gaussian_kl_closed_form()
    total = sum(
        # simultaneous: the default symbols mu_1, mu_2 share names with the Gaussian's
        base.subs({m1: mu[j], s1: sp.exp(logvar[j] / 2), m2: 0, s2: 1}, simultaneous=True)
        for j in range(d)
    )
    return sp.expand(sp.expand_log(total, force=True))


def vae_kl_closed_form(d: int) -> sp.Expr:
    r"""The textbook VAE term :math:`\tfrac12\sum_j(\mu_j^2 + e^{\ell_j} - 1 - \ell_j)` in the
    default symbols of :func:`vae_kl_expr`."""
    _check_n(d, "d")
    mu = sp.symbols(f"mu_1:{d + 1}", real=True)
    lv = sp.symbols(f"l_1:{d + 1}", real=True)
    return sp.Rational(1, 2) * sum(m**2 + sp.exp(v) - 1 - v for m, v in zip(mu, lv))


# ----------------------------------------------------------------------------- misc identities
def bce_gradient() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Gradient of binary cross-entropy with respect to the logit.

    .. math:: \frac{d}{dz}\Big(-\big[y\log\sigma(z) + (1-y)\log(1-\sigma(z))\big]\Big) = \sigma(z) - y.

    Returns ``(gradient (simplified), sigma(z) - y, difference)``; the difference is 0.
    Chapter ``ch-cross-entropy`` (Cross-entropy).
    """
    z = sp.Symbol("z", real=True)
    y = sp.Symbol("y", real=True)
    sig = 1 / (1 + sp.exp(-z))
    loss = -(y * sp.log(sig) + (1 - y) * sp.log(1 - sig))
    grad = sp.simplify(sp.diff(loss, z))
    closed = sig - y
    return grad, closed, sp.simplify(grad - closed)


def wmse_identity(n: int) -> dict[str, Any]:
    r"""The weighted-MSE identity behind the DKL decomposition, for general weights.

    For positive :math:`w` with :math:`W = \sum_j w_j` (not assumed to be 1) and
    :math:`\bar d = \sum_j w_j d_j / W`:

    .. math::
        \sum_{j,k} w_j w_k (d_j - d_k)^2 = 2W \sum_j w_j (d_j - \bar d)^2
        = 2W\sum_j w_j d_j^2 - 2\Big(\sum_j w_j d_j\Big)^2 .

    The appendix form :math:`2\sum_j w_j d_j^2 - 2(\sum_j w_j d_j)^2` differs from it by
    :math:`2(W - 1)\sum_j w_j d_j^2`, so it is right only for :math:`W = 1` (softmax weights).

    Returns a dict with ``w``, ``d``, ``lhs``, ``rhs``, ``difference`` (0), ``expanded_form``,
    ``expanded_difference`` (0), ``appendix_form``, ``appendix_difference`` (the nonzero
    :math:`2(W-1)\sum w d^2` in general) and ``appendix_difference_normalised`` (0 after
    substituting :math:`w_n = 1 - \sum_{j<n} w_j`).  Chapter ``ch-dkl`` (Decoupled KL).
    """
    _check_n(n, minimum=2)
    w = list(sp.symbols(f"w_1:{n + 1}", positive=True))
    d = list(sp.symbols(f"d_1:{n + 1}", real=True))
    W = sum(w)
    dbar = sum(wj * dj for wj, dj in zip(w, d)) / W
    lhs = sum(w[j] * w[k] * (d[j] - d[k]) ** 2 for j in range(n) for k in range(n))
    rhs = 2 * W * sum(w[j] * (d[j] - dbar) ** 2 for j in range(n))
    wd2 = sum(wj * dj**2 for wj, dj in zip(w, d))
    wd = sum(wj * dj for wj, dj in zip(w, d))
    expanded = 2 * W * wd2 - 2 * wd**2
    appendix = 2 * wd2 - 2 * wd**2
    diff = sp.cancel(sp.together(lhs - rhs))
    app_diff = sp.factor(sp.expand(lhs - appendix))
    normalised = sp.expand((lhs - appendix).subs(w[-1], 1 - sum(w[:-1])))
    return {
        "w": w,
        "d": d,
        "lhs": lhs,
        "rhs": rhs,
        "difference": sp.expand(diff),
        "expanded_form": expanded,
        "expanded_difference": sp.expand(lhs - expanded),
        "appendix_form": appendix,
        "appendix_difference": app_diff,
        "appendix_difference_normalised": normalised,
    }


def latex(expr: Any, **kwargs: Any) -> str:
    """sympy's LaTeX printer (``sympy.latex``); lists become comma-separated LaTeX."""
    if isinstance(expr, (list, tuple)):
        return ", ".join(sp.latex(e, **kwargs) for e in expr)
    return sp.latex(expr, **kwargs)
