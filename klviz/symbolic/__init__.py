r"""Symbolic (sympy) expressions and proofs that the chapters display.

Each function builds its expressions from fresh sympy symbols, so the chapters can print
them (:func:`latex`), differentiate them, or ``lambdify`` them and compare with the
numerical measures in :mod:`klviz.info`.  All logarithms are natural (nats).

The proofs return the *simplified differences* between two sides of an identity; an
identity holds when every difference is exactly ``0`` (symbolic simplification, not a
numerical spot check).

Layout (import from ``klviz.symbolic``; the submodules are where the code lives):

- :mod:`klviz.symbolic.measures`: symbols (``probabilities``, ``logits``), softmax and the
  measures (entropy, cross-entropy, KL, JS, binary entropy) as expressions; ``latex``.
- :mod:`klviz.symbolic.maxima`: the maximum-entropy derivations.
- :mod:`klviz.symbolic.gaussian`: the Gaussian, VAE and multivariate (full-covariance) KLs,
  derived and in closed form.
- :mod:`klviz.symbolic.fisher`: the Fisher information and KL's local quadratic form
  (categorical, Gaussian), Pinsker for two Bernoullis.
- :mod:`klviz.symbolic.proofs`: gradient proofs (KD, DKL = KL, BCE, the k1/k2/k3 estimators),
  the wMSE identity and KL = TCKD + (1 - p_t) NCKD.
- ``_exact``: argument checks (sizes, exact temperatures) and the simplification to 0.

Where new code goes: expressions of new measures (mutual information, f-divergences) next
to their kind in ``measures.py`` or, for a family of its own, a new module re-exported here;
a new proof in ``proofs.py`` using ``_exact.simplify_zero``.  Tests go in
``tests/symbolic/test_<module>.py``.
"""

from __future__ import annotations

from klviz.symbolic import fisher, gaussian, maxima, measures, proofs
from klviz.symbolic.fisher import (
    binary_pinsker_derivative,
    categorical_family,
    categorical_fisher_closed_form,
    fisher_information,
    gaussian_fisher,
    kl_hessian,
)
from klviz.symbolic.gaussian import (
    gaussian_kl_closed_form,
    gaussian_kl_expr,
    gaussian_symbols,
    mvn_kl_closed_form,
    mvn_kl_expr,
    mvn_symbols,
    vae_kl_closed_form,
    vae_kl_expr,
)
from klviz.symbolic.maxima import binary_entropy_maximum, max_entropy_lagrange
from klviz.symbolic.measures import (
    binary_entropy_expr,
    cross_entropy_expr,
    entropy_expr,
    js_expr,
    kl_expr,
    latex,
    log_softmax_expr,
    logits,
    probabilities,
    softmax_expr,
)
from klviz.symbolic.proofs import (
    bce_gradient,
    dkd_decomposition,
    kd_kl_gradient,
    kl_estimator_gradients,
    prove_dkl_gradient_equivalence,
    wmse_identity,
)

# each submodule lists its public names once
__all__ = [*measures.__all__, *maxima.__all__, *gaussian.__all__, *proofs.__all__, *fisher.__all__]
