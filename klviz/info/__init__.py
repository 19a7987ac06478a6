r"""Information measures for numpy arrays and torch tensors.

Every function takes numpy arrays, torch tensors, Python lists or scalars and returns the
same kind it was given (lists and scalars give numpy).  Torch results keep the autograd
graph, so the measures can be used as losses.

Conventions (used throughout the book):

- Probabilities live on ``axis`` (default: the last axis); the measure reduces that axis.
- ``base``: ``None`` or ``"e"`` gives nats, ``2`` gives bits, any other positive number
  other than 1 is allowed.  A value in base :math:`b` is the value in nats divided by
  :math:`\ln b`.
- :math:`0 \log 0 = 0` (and :math:`0 \log(0/q) = 0`): zero-probability outcomes
  contribute nothing.
- :math:`D_{\mathrm{KL}}(p\|q) = +\infty` and :math:`H(p, q) = +\infty` where some
  :math:`q_i = 0 < p_i`.  No warning is issued: ``inf`` is the mathematically correct value.
- Arguments are checked by one policy (:mod:`klviz._checks`): a wrong type (a string
  temperature, a float axis, a bool base) raises ``TypeError``; a bad value raises a
  ``ValueError`` that names the argument and says how to fix it.
- Probability-in functions validate their input (``validate=True``): NaN or infinite
  entries, negative entries and rows that do not sum to 1 raise a ``ValueError`` that
  names the argument.  Validation looks at detached values, so it works under autograd.
  A row passes if its sum is within ``max(atol, n * eps)`` of 1, where ``n`` is the row
  length and ``eps`` the machine epsilon of the computing dtype: that is the worst-case
  rounding error of adding ``n`` numbers, so softmax outputs in float32 with many classes
  are not rejected.
- Logits-in functions (``*_from_logits``) work in log space (``log_softmax``,
  ``logsumexp``), never exp-then-log, so logits of :math:`\pm 10^4` give finite values.
- float16 / bfloat16 tensors (and float16 numpy arrays) are computed in float32 and the
  result is **float32**: sums of many half-precision terms lose too many digits, and the
  extra precision of the result is free.

Layout (import from ``klviz.info``; the submodules are where the code lives):

- :mod:`klviz.info.probs`: from logits to probabilities: ``softmax``, ``log_softmax`` and
  ``log_probs``, the log-space entry point of every ``*_from_logits`` measure (not named
  ``softmax.py``, which the function ``klviz.info.softmax`` would shadow).
- :mod:`klviz.info.discrete`: entropy, cross-entropy, KL and JS of one pair of discrete
  distributions, from probabilities and from logits; ``binary_entropy``.
- :mod:`klviz.info.gaussian`: closed-form Gaussian KLs (``gaussian_kl``, ``vae_kl``,
  ``mvn_kl`` for full covariances).
- :mod:`klviz.info.joint`: joint and conditional entropy, mutual information and conditional
  mutual information of joint tables (X on the rows).
- :mod:`klviz.info.fdiv`: total variation, Hellinger, chi-squared, Rényi divergences and
  ``f_divergence`` with its named generators (``F_GENERATORS``).
- ``_validate`` (probability vectors, finite logits, positive standard deviations,
  broadcasting) and ``_terms`` (the elementwise terms with the :math:`0 \log 0`
  conventions, reductions, units) are shared by all of them.

Where a new measure goes: a module named for its family, re-exported here and listed in
``__all__``, e.g. ``joint.py`` for joint and conditional entropy and mutual information
(joint tables with X on the rows), ``fdiv.py`` for f-divergences and Rényi divergences, and
the multivariate Gaussian KL (``mvn_kl``) in ``gaussian.py``.  Reuse ``_validate.prepare``
for probability inputs and ``_terms`` for the :math:`0 \log 0` terms and ``base``, so that
every measure follows the conventions above.  Tests go in ``tests/info/test_<module>.py``.
"""

from __future__ import annotations

from klviz.info import discrete, fdiv, gaussian, joint
from klviz.info.discrete import (
    binary_entropy,
    cross_entropy,
    cross_entropy_from_logits,
    entropy,
    entropy_from_logits,
    js_divergence,
    js_divergence_from_logits,
    kl_divergence,
    kl_divergence_from_logits,
)
from klviz.info.fdiv import (
    F_GENERATORS,
    chi2_divergence,
    f_divergence,
    hellinger,
    renyi_divergence,
    total_variation,
)
from klviz.info.gaussian import gaussian_kl, mvn_kl, vae_kl
from klviz.info.joint import (
    conditional_entropy,
    conditional_mutual_information,
    joint_entropy,
    mutual_information,
)
from klviz.info.probs import log_softmax, softmax

# each submodule lists its public names once; log_probs stays in klviz.info.probs
__all__ = ["softmax", "log_softmax", *discrete.__all__, *gaussian.__all__, *joint.__all__,
           *fdiv.__all__]
