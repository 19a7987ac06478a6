r"""Symbolic proofs about gradients and identities of the distillation losses.

Each proof returns the *simplified differences* between the two sides of an identity; it
holds when every difference is exactly ``0`` (symbolic simplification, not a numerical spot
check): the KD gradient (Hinton et al. 2015), the gradient equivalence of KL and the
decoupled KL (Cui et al. 2023), the gradient of binary cross-entropy, the weighted-MSE
identity behind the DKL decomposition, the mean gradients of the k1/k2/k3 KL estimators
(Schulman 2020) and the TCKD/NCKD split of the KL (Zhao et al. 2022).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import sympy as sp

from klviz.symbolic._exact import exact_temperature, exp_atoms_to_symbols, simplify_zero, size
from klviz.symbolic.measures import log_softmax_expr, logits, softmax_expr

__all__ = [
    "kd_kl_gradient",
    "prove_dkl_gradient_equivalence",
    "bce_gradient",
    "wmse_identity",
    "kl_estimator_gradients",
    "dkd_decomposition",
]


class _SoftmaxPair(NamedTuple):
    """Two logit vectors ``x`` (teacher) and ``y`` (student), their softmaxes and log-softmaxes
    at ``T`` and their KL; ``ab`` are positive symbols a_i = exp(x_i/T), b_i = exp(y_i/T) that
    stand for the ``scaled`` exponents while a difference is simplified."""

    x: list[sp.Symbol]
    y: list[sp.Symbol]
    px: list[sp.Expr]
    py: list[sp.Expr]
    lx: list[sp.Expr]
    ly: list[sp.Expr]
    kl: sp.Expr
    ab: list[sp.Symbol]
    scaled: list[sp.Expr]

    def zero_residuals(self, diffs: Sequence[sp.Expr]) -> list[sp.Expr]:
        """Each difference simplified as a rational function of ``ab`` (0 where it vanishes)."""
        return [simplify_zero(d) for d in exp_atoms_to_symbols(diffs, self.scaled, self.ab)]


def _softmax_pair(n: int, T: Any, names: tuple[str, str]) -> _SoftmaxPair:
    x, y = logits(n, names[0]), logits(n, names[1])
    lx, ly = log_softmax_expr(x, T), log_softmax_expr(y, T)
    px, py = softmax_expr(x, T), softmax_expr(y, T)
    kl = sum(p * (a - b) for p, a, b in zip(px, lx, ly))
    ab = list(sp.symbols(f"a_1:{n + 1}", positive=True)) + list(sp.symbols(f"b_1:{n + 1}", positive=True))
    return _SoftmaxPair(x, y, px, py, lx, ly, kl, ab, [v / T for v in x] + [v / T for v in y])


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
    n = size(n)
    T = sp.Symbol("T", positive=True) if T is None else exact_temperature(T, "T")
    pair = _softmax_pair(n, T, ("t", "s"))
    grad = [sp.diff(pair.kl, si) for si in pair.y]
    closed = [(qi - pi) / T for pi, qi in zip(pair.px, pair.py)]
    diffs = pair.zero_residuals([g - c for g, c in zip(grad, closed)])
    back = {ai: sp.exp(x) for ai, x in zip(pair.ab, pair.scaled)}
    # simplify as rational functions of a_i = exp(t_i/T), b_i = exp(s_i/T), then map back
    grad_ab = exp_atoms_to_symbols(grad, pair.scaled, pair.ab)
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
    n = size(n, minimum=2)
    if temperature is None:
        T: Any = sp.Integer(1)
    elif temperature is True:
        T = sp.Symbol("T", positive=True)
    else:
        T = exact_temperature(temperature, "temperature")
    pair = _softmax_pair(n, T, ("o_m", "o_n"))
    om, on, sm, sn, lsm, lsn, kl = pair.x, pair.y, pair.px, pair.py, pair.lx, pair.ly, pair.kl

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

    def residuals(wrt: Sequence[sp.Symbol]) -> tuple[list, list, list]:
        g_kl = [sp.diff(kl, x) for x in wrt]
        if stop_gradient:
            g_dkl = [sp.diff(dkl_sg, x).subs(unstop) for x in wrt]
        else:
            g_dkl = [sp.diff(dkl_value, x) for x in wrt]
        return g_kl, g_dkl, pair.zero_residuals([g1 - g2 for g1, g2 in zip(g_kl, g_dkl)])

    g_kl_n, g_dkl_n, res_n = residuals(on)
    g_kl_m, g_dkl_m, res_m = residuals(om)
    # the closed forms quoted in the docstring, checked too
    closed_n = [(sn[i] - sm[i]) / T for i in range(n)]
    r = [lsm[i] - lsn[i] for i in range(n)]
    kl_r = sum(sm[k] * r[k] for k in range(n))
    closed_m = [sm[i] * (r[i] - kl_r) / T for i in range(n)]
    res_closed = pair.zero_residuals([g - c for g, c in zip(g_kl_n + g_kl_m, closed_n + closed_m)])
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
    n = size(n, minimum=2)
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


def kl_estimator_gradients(n: int = 3) -> dict[str, Any]:
    r"""The mean gradient of the KL estimators :math:`k_1, k_2, k_3` with the sample held fixed.

    For a policy :math:`\pi = \operatorname{softmax}(\theta)` and a reference
    :math:`\pi_{\mathrm{ref}} = \operatorname{softmax}(\rho)` over ``n`` classes, with
    :math:`\ell(y) = \log\pi_{\mathrm{ref}}(y) - \log\pi(y)`, the pathwise gradient is
    :math:`g_k = \sum_y \pi(y)\,\nabla_\theta k(\ell(y))`, the weights :math:`\pi(y)` not
    differentiated (the sampled :math:`y` is fixed).  The identities

    .. math:: g_{k_1} = 0,\quad g_{k_2} = \nabla_\theta D_{\mathrm{KL}}(\pi\|\pi_{\mathrm{ref}}),
              \quad g_{k_3} = \pi - \pi_{\mathrm{ref}}
              = \nabla_\theta D_{\mathrm{KL}}(\pi_{\mathrm{ref}}\|\pi)

    are returned as simplified differences (``"k1"``, ``"k2"``, ``"k3"``, ``"k3_forward"``:
    lists of ``n`` expressions, all 0), with the gradients themselves under ``"gradients"``.
    Schulman (2020) for the estimators; chapter ``ch-kl-practice``.
    """
    n = size(n, minimum=2)
    pair = _softmax_pair(n, sp.Integer(1), ("theta", "rho"))
    pi, ref, lp, lr_ = pair.px, pair.py, pair.lx, pair.ly
    ell = [b - a for a, b in zip(lp, lr_)]
    ks = {"k1": lambda l: -l, "k2": lambda l: l**2 / 2, "k3": lambda l: sp.exp(l) - 1 - l}
    grads = {name: [sum(pi[y] * sp.diff(k(ell[y]), t) for y in range(n)) for t in pair.x]
             for name, k in ks.items()}
    forward = sum(r * (b - a) for r, a, b in zip(ref, lp, lr_))  # KL(ref || pi)
    target = {"k1": [sp.Integer(0)] * n,
              "k2": [sp.diff(pair.kl, t) for t in pair.x],
              "k3": [p - r for p, r in zip(pi, ref)],
              "k3_forward": [sp.diff(forward, t) for t in pair.x]}
    out: dict[str, Any] = {}
    for name, want in target.items():
        got = grads["k3" if name == "k3_forward" else name]
        diffs = [sp.expand(sp.powsimp(sp.expand(g - w, power_exp=True))) for g, w in zip(got, want)]
        out[name] = pair.zero_residuals(diffs)
    out["gradients"] = grads
    return out


def dkd_decomposition(n: int = 3) -> dict[str, Any]:
    r"""KL = TCKD + (1 - p_t) NCKD (Zhao et al., CVPR 2022), proved for ``n`` classes.

    With teacher :math:`p` and student :math:`q` (positive weights :math:`a_i, b_i`
    normalised, so any distributions with full support), target class 1, the binary split
    :math:`b^p = (p_1, 1 - p_1)` and the non-target distribution
    :math:`\hat p_i = p_i / (1 - p_1)`, :math:`i \ge 2`,

    .. math:: \mathrm{TCKD} = D_{\mathrm{KL}}(b^p\|b^q), \quad
              \mathrm{NCKD} = D_{\mathrm{KL}}(\hat p\|\hat q), \quad
              D_{\mathrm{KL}}(p\|q) = \mathrm{TCKD} + (1 - p_1)\,\mathrm{NCKD}.

    Returns ``{"kl", "tckd", "nckd", "difference"}`` with the difference simplified (0).
    Chapter ``ch-kl-practice`` (knowledge distillation).
    """
    n = size(n, minimum=3)
    a = list(sp.symbols(f"a_1:{n + 1}", positive=True))
    b = list(sp.symbols(f"b_1:{n + 1}", positive=True))
    p = [ai / sum(a) for ai in a]
    q = [bi / sum(b) for bi in b]
    kl = sum(pi * sp.log(pi / qi) for pi, qi in zip(p, q))
    tckd = p[0] * sp.log(p[0] / q[0]) + (1 - p[0]) * sp.log((1 - p[0]) / (1 - q[0]))
    p_hat = [ai / sum(a[1:]) for ai in a[1:]]
    q_hat = [bi / sum(b[1:]) for bi in b[1:]]
    nckd = sum(pi * sp.log(pi / qi) for pi, qi in zip(p_hat, q_hat))
    diff = sp.simplify(sp.expand_log(sp.together(kl - tckd - (1 - p[0]) * nckd), force=True))
    return {"kl": kl, "tckd": tckd, "nckd": nckd, "difference": sp.simplify(diff)}
