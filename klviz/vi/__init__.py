r"""Variational inference and the VAE (chapter ``ch-vi``).

- :mod:`klviz.vi.linear_gaussian`: the linear-Gaussian latent model, whose posterior and
  evidence are exact, so that :math:`\log p(x) = \mathrm{ELBO}(q) + D_{\mathrm{KL}}(q \| p(z \mid x))`
  can be checked to rounding for any Gaussian :math:`q`.
- :mod:`klviz.vi.estimators`: reparameterisation and score-function (REINFORCE) gradient
  estimators of :math:`\nabla_\theta \mathbb E_{q_\theta}[f(z)]`, one estimate per sample, so their
  variances can be measured.
- :mod:`klviz.vi.vae`: the VAE (MLP encoder and decoder, Bernoulli likelihood on pixels in
  [0, 1]) and its per-example rate and distortion; :mod:`klviz.vi.train`: its trainer on the
  runtime of :mod:`klviz.distill` (``python -m klviz.distill vae ...``).
"""

from __future__ import annotations

from klviz.vi import estimators, linear_gaussian, vae
from klviz.vi.estimators import estimator_stats, reparam_gradients, score_gradients
from klviz.vi.linear_gaussian import LinearGaussian
from klviz.vi.vae import VAE, vae_terms

__all__ = ["LinearGaussian", "VAE", "estimator_stats", "reparam_gradients", "score_gradients", "vae_terms",
           "estimators", "linear_gaussian", "vae"]
