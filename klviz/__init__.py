"""klviz: the helper package of the executable textbook on entropy, cross-entropy,
KL divergence and knowledge distillation.

Submodules (each with one job):

- :mod:`klviz.info` -- entropy, cross-entropy, KL, JS (numpy or torch), Gaussian KL
- :mod:`klviz.losses` -- distillation losses: KD, DKD, DKL, IKL/GKL, JS (O(B*C))
- :mod:`klviz.symbolic` -- sympy expressions and gradient proofs
- :mod:`klviz.figures` -- the chapters' figures, one module per topic, each declared once
- :mod:`klviz.viz` -- the book style and the three renderers of a declared figure: static
  matplotlib, ipywidgets explorer, kernel-free Plotly slider for the web book
- :mod:`klviz.estimators` -- Monte Carlo estimators of KL (k1, k2, k3) and their bias/variance
- :mod:`klviz.fitting` -- fitting one Gaussian to a mixture by forward or reverse KL (and by GKD's generalized JSD)
- :mod:`klviz.gradients` -- logit gradients of KD, DKL and GKL (closed forms and autograd)
- :mod:`klviz.smoothing` -- label smoothing: the smoothed target and its cross-entropy
- :mod:`klviz.memory` -- bytes of the logits tensor at large vocabularies
- :mod:`klviz.support` -- divergences as the supports of p and q stop overlapping
- :mod:`klviz.examples` -- the example logits the chapters share, defined once
- :mod:`klviz.logits` -- coercion and checks of class-score vectors
- :mod:`klviz.distill` -- a teacher -> student distillation trainer and its CLI; the seconds-long
  convergence experiment of chapter ``ch-gkl`` (:mod:`klviz.distill.convergence`)
- :mod:`klviz.export` -- student and instructor editions of the notebooks
- :mod:`klviz.notation` -- the book's LaTeX macros
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
