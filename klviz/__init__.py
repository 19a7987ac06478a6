"""klviz: the helper package of the executable textbook on entropy, cross-entropy,
KL divergence and knowledge distillation.

Submodules (each with one job):

- :mod:`klviz.info` -- entropy, cross-entropy, KL, JS (numpy or torch), Gaussian KL
- :mod:`klviz.losses` -- distillation losses: KD, DKD, DKL, IKL/GKL, JS (O(B*C))
- :mod:`klviz.symbolic` -- sympy expressions and gradient proofs
- :mod:`klviz.plots` -- matplotlib figures shared by the chapters (one style)
- :mod:`klviz.widgets` -- ipywidgets explorers built on :mod:`klviz.plots`
- :mod:`klviz.online` -- kernel-free Plotly figures with sliders for the web book
- :mod:`klviz.estimators` -- Monte Carlo estimators of KL (k1, k2, k3) and their bias/variance
- :mod:`klviz.fitting` -- fitting one Gaussian to a mixture by forward or reverse KL
- :mod:`klviz.experiments` -- the small, seconds-long convergence experiments of chapters ``ch-dkl`` to ``ch-gkl``
- :mod:`klviz.distill` -- a teacher -> student distillation trainer and its CLI
- :mod:`klviz.export` -- student and instructor editions of the notebooks
- :mod:`klviz.notation` -- the book's LaTeX macros
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
